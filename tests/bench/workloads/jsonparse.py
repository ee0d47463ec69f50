"""Parser workload: a JSON parser in pure Python, character by character.

A scanner object with small methods (peek, advance, expect) and a recursive-descent parser
over it: the shape of pure-Python parsers and template engines (pyperformance's json_loads
pure-Python path, genshi, mako): many short calls, string indexing and slicing, dict and
list building. The document is generated with the json module and the parse is checked
against json.loads (C calls of a few milliseconds, next to a parse of several hundred).
"""

import json

from _harness import run, scaled

WHITESPACE = " \t\n\r"
ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t"}


class ParseError(Exception):
    pass


class Scanner:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def advance(self):
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def skip_space(self):
        while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def expect(self, word):
        end = self.pos + len(word)
        if self.text[self.pos:end] != word:
            raise ParseError("expected %r at %d" % (word, self.pos))
        self.pos = end


class Parser:
    def __init__(self, text):
        self.scan = Scanner(text)

    def parse(self):
        value = self.value()
        self.scan.skip_space()
        if self.scan.peek():
            raise ParseError("trailing data at %d" % self.scan.pos)
        return value

    def value(self):
        self.scan.skip_space()
        ch = self.scan.peek()
        if ch == "{":
            return self.object()
        if ch == "[":
            return self.array()
        if ch == '"':
            return self.string()
        if ch == "t":
            self.scan.expect("true")
            return True
        if ch == "f":
            self.scan.expect("false")
            return False
        if ch == "n":
            self.scan.expect("null")
            return None
        return self.number()

    def object(self):
        self.scan.advance()
        result = {}
        self.scan.skip_space()
        if self.scan.peek() == "}":
            self.scan.advance()
            return result
        while True:
            self.scan.skip_space()
            key = self.string()
            self.scan.skip_space()
            self.scan.expect(":")
            result[key] = self.value()
            self.scan.skip_space()
            if self.scan.advance() == "}":
                return result

    def array(self):
        self.scan.advance()
        result = []
        self.scan.skip_space()
        if self.scan.peek() == "]":
            self.scan.advance()
            return result
        while True:
            result.append(self.value())
            self.scan.skip_space()
            if self.scan.advance() == "]":
                return result

    def string(self):
        self.scan.expect('"')
        parts = []
        while True:
            ch = self.scan.advance()
            if ch == '"':
                return "".join(parts)
            if ch == "\\":
                esc = self.scan.advance()
                if esc == "u":
                    start = self.scan.pos
                    self.scan.expect(self.scan.text[start:start + 4])
                    parts.append(chr(int(self.scan.text[start:start + 4], 16)))
                else:
                    parts.append(ESCAPES[esc])
            else:
                parts.append(ch)

    def number(self):
        start = self.scan.pos
        is_float = False
        while self.scan.peek() and self.scan.peek() in "+-0123456789.eE":
            if self.scan.advance() in ".eE":
                is_float = True
        literal = self.scan.text[start:self.scan.pos]
        if not literal:
            raise ParseError("unexpected %r at %d" % (self.scan.peek(), start))
        return float(literal) if is_float else int(literal)


def make_document(n):
    """A list of n records of mixed types, with escapes and nesting."""
    records = []
    for i in range(n):
        records.append({
            "id": i,
            "name": "item \"%d\"\n\u00e9" % i,
            "price": i * 1.25 + 0.5,
            "tags": ["t%d" % (i % 7), "t%d" % (i % 5)],
            "ok": i % 3 == 0,
            "parent": None if i % 4 else {"id": i // 4, "depth": [1, 2, [3, {}]]},
        })
    return json.dumps({"records": records, "count": n}, indent=1)


def main():
    # Building the document is timed too: everything a workload does between start-up and
    # exit must be inside its timed region, or the recorder's cost for it would show up as
    # "wall - workload", which is meant for start-up, set-up and exit alone.
    text = make_document(scaled(6000))
    doc = Parser(text).parse()
    return [doc["count"], doc == json.loads(text)]


if __name__ == "__main__":
    run(main)
