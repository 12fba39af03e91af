#!/usr/bin/env python3
"""Makes crates/holoid-text/fonts/HoloidSansKR-{Regular,Bold}.ttf from Debian's fonts-nanum.

The card's text needs Hangul. NanumGothic (SIL Open Font License 1.1) is subset to the
characters an ID card uses (ASCII, Latin-1, punctuation, Hangul compatibility jamo, all
11,172 Hangul syllables, full-width forms) and, because "NanumGothic" is a Reserved Font Name
under the OFL, renamed: a modified version may not carry the reserved name.

Needs: apt-get install fonts-nanum; pip install fonttools. Run from the repository root.
"""
import subprocess
from fontTools.ttLib import TTFont

UNICODES = ("U+0020-007E,U+00A0-00FF,U+2010-2027,U+2030-203A,U+2190-2193,U+25CB-25CF,"
            "U+3000-303F,U+3131-318E,U+AC00-D7A3,U+FF01-FF5E")
FAMILY = "Holoid Sans KR"

for source, style in [("NanumGothic", "Regular"), ("NanumGothicBold", "Bold")]:
    out = f"crates/holoid-text/fonts/HoloidSansKR-{style}.ttf"
    subprocess.run(["pyftsubset", f"/usr/share/fonts/truetype/nanum/{source}.ttf",
                    f"--unicodes={UNICODES}", f"--output-file={out}",
                    "--layout-features=*", "--no-hinting"], check=True)
    font = TTFont(out)
    names = {1: FAMILY, 2: style, 3: f"HoloidSansKR-{style};derived from NanumGothic",
             4: f"{FAMILY} {style}", 6: f"HoloidSansKR-{style}", 16: FAMILY, 17: style}
    table = font["name"]
    table.names = [n for n in table.names if n.nameID not in names]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    font.save(out)
    print("wrote", out)
