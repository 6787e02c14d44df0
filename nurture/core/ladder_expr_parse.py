"""Parser of ladder expressions: text -> ``ladder_expr`` tree, or an ``ExpressionError``
that says what was found, where, and what to write instead.

Grammar (lowest precedence first)::

    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | "(" expr ")" | NAME [compare]
    compare := OP literal | "in" "[" literal ("," literal)* "]"
    literal := NUMBER | WORD | "quoted" | true | false
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from nurture.core.ladder_expr import (
    COMPARISONS,
    NAMES,
    NUMERIC_NAMES,
    And,
    Compare,
    Expr,
    ExpressionError,
    Name,
    Not,
    Or,
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|>=|<=|>|<)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)
# Things people write from other languages, and what we write instead.
_INSTEAD = {
    "&&": "and",
    "&": "and",
    "||": "or",
    "|": "or",
    "!": "not",
    "=>": ">=",
    "=<": "<=",
    "=": "==",
}


@dataclass(frozen=True)
class Token:
    kind: str  # number, word, string, op, punct, end
    text: str
    column: int

    @property
    def shown(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None:
            raise _stray(text, pos)
        kind = found.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, found.group(), pos + 1))
        pos = found.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _stray(text: str, pos: int) -> ExpressionError:
    for wrong in sorted(_INSTEAD, key=len, reverse=True):
        if text.startswith(wrong, pos):
            return ExpressionError(f"unexpected {wrong!r}; write {_INSTEAD[wrong]!r}", pos + 1)
    if text[pos] in "\"'":
        return ExpressionError("unterminated quoted text; close it with a quote", pos + 1)
    return ExpressionError(
        f"unexpected character {text[pos]!r}; write names, numbers, comparisons "
        "(== != >= <= > <), in [..], and/or/not and parentheses",
        pos + 1,
    )


class Parser:
    def __init__(self, text: str, grades: Collection[str] | None = None) -> None:
        self.text = text
        self.grades = {g.casefold(): g for g in grades} if grades is not None else None
        self.tokens = tokenize(text)
        self.pos = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.token.kind == "word" and self.token.text.casefold() == word

    def parse(self) -> Expr:
        if self.token.kind == "end":
            raise ExpressionError(
                "empty expression; write a rule such as engagement >= 20", self.token.column
            )
        expr = self.parse_or()
        if self.token.kind != "end":
            hint = "after a complete condition; write 'and' or 'or' between conditions"
            if self.token.text == ")":
                hint = "with no matching '('; remove it or open one before the condition"
            raise ExpressionError(
                f"unexpected {self.token.shown} {hint}",
                self.token.column,
            )
        return expr

    def parse_or(self) -> Expr:
        parts = [self.parse_and()]
        while self.at_word("or"):
            self.advance()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Expr:
        parts = [self.parse_unary()]
        while self.at_word("and"):
            self.advance()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self) -> Expr:
        token = self.token
        if self.at_word("not"):
            self.advance()
            return Not(self.parse_unary())
        if token.text == "(":
            self.advance()
            inner = self.parse_or()
            if self.token.text != ")":
                raise ExpressionError(
                    f"expected ')' to close the '(' at column {token.column}, "
                    f"found {self.token.shown}",
                    self.token.column,
                )
            self.advance()
            return inner
        if token.kind != "word" or token.text.casefold() in ("and", "or", "in"):
            raise ExpressionError(
                f"expected a condition such as engagement >= 50, found {token.shown}",
                token.column,
            )
        return self.parse_condition(self.advance())

    def parse_condition(self, token: Token) -> Expr:
        name = token.text
        if name not in NAMES:
            close = difflib.get_close_matches(name.casefold(), NAMES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(NAMES)}"
            raise ExpressionError(f"unknown name {name!r} ({hint})", token.column)
        if self.token.kind == "op":
            op = self.advance()
            return Compare(name, op.text, self.literal(name, op))
        if self.at_word("in"):
            return Compare(name, "in", self.options(name, self.advance()))
        if name == "hand_raiser":
            return Name(name)
        example = "fit in [A, B]" if name == "fit" else f"{name} >= 50"
        raise ExpressionError(
            f"{name} needs a comparison, such as {example}; found {self.token.shown}",
            self.token.column,
        )

    def options(self, name: str, in_token: Token) -> tuple[object, ...]:
        if name != "fit":
            raise ExpressionError(
                f"'in [...]' compares grades; compare {name} with >=, <=, == and so on",
                in_token.column,
            )
        if self.token.text != "[":
            raise ExpressionError(
                f"expected '[' after 'in', such as fit in [A, B]; found {self.token.shown}",
                self.token.column,
            )
        self.advance()
        values = [self.literal(name, in_token)]
        while self.token.text == ",":
            self.advance()
            values.append(self.literal(name, in_token))
        if self.token.text != "]":
            raise ExpressionError(
                f"expected ',' or ']' in the list of grades, found {self.token.shown}",
                self.token.column,
            )
        self.advance()
        return tuple(values)

    def literal(self, name: str, op: Token) -> object:
        token = self.token
        if name in NUMERIC_NAMES:
            if token.kind != "number":
                raise ExpressionError(
                    f"expected a number after {op.text!r}, such as 50; found {token.shown}",
                    token.column,
                )
            self.advance()
            return float(token.text) if "." in token.text else int(token.text)
        if name == "hand_raiser":
            if op.text not in ("==", "!=") or token.text.casefold() not in ("true", "false"):
                raise ExpressionError(
                    "hand_raiser is true or false; write hand_raiser or not hand_raiser, "
                    f"found {op.text + ' ' + token.text!r}",
                    op.column if op.text not in ("==", "!=") else token.column,
                )
            self.advance()
            return token.text.casefold() == "true"
        return self.grade(op, token)

    def grade(self, op: Token, token: Token) -> str:
        if op.text not in ("==", "!=", "in"):
            raise ExpressionError(
                f"fit is a grade and has no order; write fit in [A, B] "
                f"(or compare fit_points {op.text} a number)",
                op.column,
            )
        if token.kind == "number":
            raise ExpressionError(
                f"fit is a grade such as A, found {token.shown}; compare fit_points with numbers",
                token.column,
            )
        if token.kind not in ("word", "string") or token.text.casefold() in COMPARISONS:
            raise ExpressionError(
                f"expected a grade after {op.text!r}, such as A; found {token.shown}",
                token.column,
            )
        self.advance()
        word = _unquote(token.text) if token.kind == "string" else token.text
        if self.grades is None:
            return word
        known = self.grades.get(word.casefold())
        if known is None:
            names = list(self.grades.values())
            raise ExpressionError(
                f"unknown grade {word!r}; the grades are {', '.join(names)}", token.column
            )
        return known


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
