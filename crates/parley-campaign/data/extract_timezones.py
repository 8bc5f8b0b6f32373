"""Writes timezones.txt (libphonenumber's number-prefix -> time-zone map, in the
`prefix|Zone1&Zone2` form of libphonenumber's resources/timezones/map_data.txt) from the
`phonenumbers` package on PyPI, which redistributes that map.

    pip install phonenumbers==9.0.43
    python3 extract_timezones.py > timezones.txt
"""
import phonenumbers
from phonenumbers.tzdata import TIMEZONE_DATA

print(f"# libphonenumber time-zone map, from phonenumbers {phonenumbers.__version__} (Apache-2.0,")
print("# Copyright (C) 2011 The Libphonenumber Authors; see LICENSE-libphonenumber.txt).")
print("# One line per prefix (country code included): prefix|Zone&Zone. Longest prefix wins.")
for prefix in sorted(TIMEZONE_DATA, key=lambda p: (len(p), p)):
    print(f"{prefix}|{'&'.join(TIMEZONE_DATA[prefix])}")
