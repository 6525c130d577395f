# shamir-mnemonic ships no type information: an honest stub of the part meshcare/recovery/shamir.py calls.
from collections.abc import Iterable, Sequence

class MnemonicError(Exception): ...

class Share:
    identifier: int
    extendable: bool
    iteration_exponent: int
    group_index: int
    group_threshold: int
    group_count: int
    index: int
    member_threshold: int
    value: bytes
    @classmethod
    def from_mnemonic(cls, mnemonic: str) -> Share: ...
    def mnemonic(self) -> str: ...

def generate_mnemonics(group_threshold: int, groups: Sequence[tuple[int, int]], master_secret: bytes,
                       passphrase: bytes = ..., extendable: bool = ...,
                       iteration_exponent: int = ...) -> list[list[str]]: ...
def combine_mnemonics(mnemonics: Iterable[str], passphrase: bytes = ...) -> bytes: ...
