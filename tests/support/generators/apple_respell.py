"""Other spellings of one Apple Health ``export.xml``: same document, odd formatting.

XML lets one document be written many ways. :func:`respell` rewrites an
export the way other tools (or hand edits) might, without changing what a
conforming parser reads from it:

* attributes in another order, separated by tabs, newlines or several
  spaces, with spaces around ``=``, some in single quotes;
* characters written as character references (``&#82;``, ``&#x2019;``),
  ``&gt;`` written as a raw ``>`` (legal inside attribute values);
* empty elements written with an end tag (``<Record ...></Record>``), end
  tags with whitespace before the ``>``;
* comments, processing instructions and CDATA sections between and inside
  records, some holding text that looks like a ``<Record``, and a comment in
  the internal DTD and after the root.

Values keep their meaning. With ``whitespace_in_values`` a space inside a
value is written as a newline, tab or CR LF, which XML's attribute-value
normalisation turns back into a space.
"""

from __future__ import annotations

import random
import re

_TAG = re.compile(r'<([A-Za-z]\w*)((?:\s+\w+="[^"]*")*)\s*(/?)>')
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_REFERENCE = re.compile(r"(&[^;]+;)")
_END_TAG = re.compile(r"</(\w+)>")

_LOOKALIKE = (
    '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="decoy" '
    'unit="count/min" startDate="2024-05-04 07:00:00 +0200" '
    'endDate="2024-05-04 07:00:00 +0200" value="99"/>'
)
_EXTRAS = (
    f"<!-- {_LOOKALIKE} -->",
    "<!-- a comment - with - dashes ->- inside -->",
    "<?vagus-test a processing instruction?>",
    f"<![CDATA[ {_LOOKALIKE} </Record> ]]>",
    "<!---->",
)
_SEPARATORS = (" ", "  ", "\n", "\n    ", "\t", "\r\n ")
_EQUALS = ("=", " = ", "\n=\t")


def respell(text: str, seed: int, odd: float = 0.3, whitespace_in_values: bool = False) -> str:
    """``text`` (a whole export.xml) spelled differently; ``odd`` is the share of tags changed."""
    rng = random.Random(seed)
    root = text.index("<HealthData")
    root_end = text.index(">", root) + 1
    prolog, body = text[:root_end], text[root_end:]
    if rng.random() < 0.5:  # a comment and a PI in the prolog
        prolog = prolog.replace("<!DOCTYPE", "<?vagus-test prolog?>\n<!DOCTYPE", 1)
        prolog = prolog.replace(
            "<!ELEMENT ExportDate",
            "<!-- declarations follow; <HealthData> is not here -->\n<!ELEMENT ExportDate",
            1,
        )

    def tag(match: re.Match[str]) -> str:
        if rng.random() >= odd:
            return match.group()
        name, attributes, empty = match.group(1), _ATTRIBUTE.findall(match.group(2)), match.group(3)
        if rng.random() < 0.5:
            rng.shuffle(attributes)
        out = [f"<{name}"]
        for key, value in attributes:
            value = _respell_value(value, rng, whitespace_in_values)
            quote = "'" if "'" not in value and rng.random() < 0.3 else '"'
            if quote == '"':
                value = value.replace('"', "&quot;")
            out.append(f"{rng.choice(_SEPARATORS)}{key}{rng.choice(_EQUALS)}{quote}{value}{quote}")
        if not empty:
            out.append(rng.choice((">", "\n>", " >")))
        elif rng.random() < 0.3:
            out.append(rng.choice(("></", ">\n</")) + name + rng.choice((">", " >", "\n>")))
        else:
            out.append(rng.choice(("/>", " />", "\n/>")))
        return "".join(out)

    lines = body.split("\n")  # the generator writes a tag per line
    for index in range(1, len(lines) - 1):
        if rng.random() < odd / 4:
            lines[index] = rng.choice(_EXTRAS) + lines[index]
    body = "\n".join(lines)
    body = _TAG.sub(tag, body)
    body = _END_TAG.sub(
        lambda m: m.group() if rng.random() >= odd else f"</{m.group(1)}{rng.choice(_SEPARATORS)}>", body
    )
    if rng.random() < 0.5:
        body += "<!-- after the root -->\n<?vagus-test end?>\n"
    return prolog + body


def _respell_value(value: str, rng: random.Random, whitespace: bool) -> str:
    """The same attribute value with some characters written as references, or raw '>'."""
    pieces = _REFERENCE.split(value)
    for index in range(0, len(pieces), 2):  # the text between references
        piece = pieces[index]
        if piece and rng.random() < 0.4:
            at = rng.randrange(len(piece))
            char = piece[at]
            ref = f"&#{ord(char)};" if rng.random() < 0.5 else f"&#x{ord(char):x};"
            pieces[index] = piece[:at] + ref + piece[at + 1 :]
    value = "".join(pieces)
    if rng.random() < 0.5:
        value = value.replace("&gt;", ">")
    if whitespace and rng.random() < 0.3:
        value = value.replace(" ", rng.choice(("\n", "\t", "\r\n")), 1)
    return value
