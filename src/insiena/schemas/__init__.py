"""pandera models for every raw format and every processed table.

Raw models carry the official headers as aliases; processed models are strict. All are validated
lazily through `insiena.validation.validate`, which writes the failure cases to a readable file.
"""
