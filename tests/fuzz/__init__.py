"""Coverage-guided fuzzing of the code that reads peer bytes (issue 9): targets, corpus, crashers.

``targets.py`` holds one plain function per target (bytes in; returns or raises RemoteProtocolError);
``run.py`` drives them under atheris (``make fuzz``); ``test_fuzz.py`` runs each for a few seconds in
``make test`` and replays every kept corpus file and crasher in-process.
"""
