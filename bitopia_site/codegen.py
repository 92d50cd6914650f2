"""Jinja's code generator, printing each run of text and `{{ ... }}` with one `yield`.

Jinja yields every piece of a run apart: a post page makes some 160 yields, and each passes up
through every template of its `extends` chain and every block (five generators for a post).
Here a run whose pieces are not all known at compile time becomes one
`yield "".join((text, escape(value), ...))`: the same text, from fewer, longer yields. The
values are worked out in the same order as before; the one difference is that a value that
fails does so before the text before it in its run is yielded, which `render()` never shows.
"""

from __future__ import annotations

from typing import Any

import markupsafe
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

from bitopia_site import fences

escape_text: Any = markupsafe.escape  # the public escape, outside the markupsafe versions covered
if fences.covered("markupsafe"):
    try:
        from markupsafe import _escape_inner as escape_text  # the C function escape() calls for a str
    except ImportError:  # a build without it: the public escape
        pass

ESCAPE_TEXT = "escape_text"  # the name compiled templates call escape_text by (see render._Template)


class RunCodeGenerator(CodeGenerator):
    """Jinja's CodeGenerator with `visit_Output` yielding a run of output at once, and escaping a
    printed str inline, as a str: output is joined before anything reads it, so its pieces need not
    be Markup, and most of what `{{ ... }}` prints is a str."""

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if _escapes_inline(frame, finalize):
            self.write(f"({ESCAPE_TEXT}(_o) if type(_o := ")
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if _escapes_inline(frame, finalize):
            self.write(") is str else _o if type(_o) is Markup else escape(_o))")  # escape() copies a Markup
        else:
            super()._output_child_post(node, frame, finalize)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None or len(node.nodes) < 2 or (
                frame.require_output_check and self.has_known_extends):
            super().visit_Output(node, frame)  # into a buffer (macros, `set` blocks), or nothing to join
            return
        finalize = self._make_finalize()
        pieces = _pieces(self, node, frame, finalize)
        if len(pieces) < 2:
            super().visit_Output(node, frame)
            return
        if frame.require_output_check:  # output before an `extends` found only at run time
            self.writeline("if parent_template is None:")
            self.indent()
        self.writeline('yield "".join((')  # each piece a str: text, escape(...) or str(...)
        self.indent()
        for piece in pieces:
            if isinstance(piece, list):
                self.writeline(self._output_const_repr(piece) + ",")
            else:
                self.newline(piece)  # the template's line, for errors raised by this value
                self._output_child_pre(piece, frame, finalize)
                self.visit(piece, frame)
                self._output_child_post(piece, frame, finalize)
                self.write(",")
        self.outdent()
        self.writeline("))")
        if frame.require_output_check:
            self.outdent()


def _escapes_inline(frame: Frame, finalize: Any) -> bool:
    """Whether a printed value is escaped inline: always, where autoescaping is on and known at
    compile time and no `finalize` is set (a `{% autoescape %}` block decides only when rendered)."""
    return bool(frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and finalize.src is None)


def _pieces(generator: CodeGenerator, node: nodes.Output, frame: Frame, finalize: Any) -> list[Any]:
    """The run's pieces, as Jinja splits them: lists of text known at compile time (the template's
    own text, constants), and the expressions to work out when the page is rendered."""
    pieces: list[Any] = []
    for child in node.nodes:
        try:
            if not (finalize.const or isinstance(child, nodes.TemplateData)):
                raise nodes.Impossible()
            const = generator._output_child_to_const(child, frame, finalize)
        except Exception:  # noqa: BLE001 - as Jinja: not constant, or left to fail when rendered
            pieces.append(child)
            continue
        if pieces and isinstance(pieces[-1], list):
            pieces[-1].append(const)
        else:
            pieces.append([const])
    return pieces
