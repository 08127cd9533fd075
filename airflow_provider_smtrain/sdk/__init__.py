"""The only package that imports ``sagemaker.*``.

Functions here build SDK objects from validated specs inside the hook's credentials scope, start jobs
without waiting, and turn the SDK's quirks (private attributes, swallowed errors, unpredictable job
names) into clear exceptions. Import these modules only inside ``execute()``.
"""
