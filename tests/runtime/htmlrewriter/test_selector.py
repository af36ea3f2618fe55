import pytest

from wranglerpy.runtime.htmlrewriter.selector import Node, Selector, SelectorError


def node(tag: str, index: int = 1, type_index: int = 1, **attrs: str) -> Node:
    return Node(
        tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}, index, type_index
    )


def matches(selector: str, *chain: Node) -> bool:
    return Selector(selector).matches(list(chain))


@pytest.mark.parametrize(
    ("selector", "element", "expected"),
    [
        ("*", node("div"), True),
        ("div", node("div"), True),
        ("DIV", node("div"), True),
        ("span", node("div"), False),
        ("div.a", node("div", class_="a b"), True),
        (".b.a", node("div", class_="a b"), True),
        ("div.c", node("div", class_="a b"), False),
        ("#main", node("div", id="main"), True),
        ("div#main", node("div", id="other"), False),
        ("[data-x]", node("div", data_x=""), True),
        ("[data-x]", node("div"), False),
        ('a[href="/x"]', node("a", href="/x"), True),
        ('a[href="/X" i]', node("a", href="/x"), True),
        ('a[href="/X" s]', node("a", href="/x"), False),
        ("[rel~=icon]", node("link", rel="shortcut icon"), True),
        ("[rel~=ico]", node("link", rel="shortcut icon"), False),
        ('meta[property^="og:"]', node("meta", property="og:title"), True),
        ('meta[property^="og:"]', node("meta", property="twitter:title"), False),
        ('[src$=".png"]', node("img", src="a.png"), True),
        ("[src*=cdn]", node("img", src="//cdn.x/a"), True),
        ("[lang|=en]", node("p", lang="en-GB"), True),
        ("[lang|=en]", node("p", lang="english"), False),
        ("li:first-child", node("li", 1), True),
        ("li:first-child", node("li", 2), False),
        ("li:nth-child(2)", node("li", 2), True),
        ("li:nth-child(odd)", node("li", 3), True),
        ("li:nth-child(even)", node("li", 3), False),
        ("li:nth-child(3n+1)", node("li", 7), True),
        ("li:nth-child(-n+2)", node("li", 3), False),
        ("li:nth-child(-n+2)", node("li", 2), True),
        ("p:nth-of-type(2)", node("p", 5, 2), True),
        ("p:first-of-type", node("p", 5, 1), True),
        ("p:not(.x)", node("p", class_="y"), True),
        ("p:not(.x, #y)", node("p", id="y"), False),
        ("h1, h2", node("h2"), True),
    ],
)
def test_compound_selectors(selector: str, element: Node, expected: bool) -> None:
    assert matches(selector, element) is expected


def test_descendant_and_child_combinators() -> None:
    html, body, div, p = node("html"), node("body"), node("div", class_="c"), node("p")
    assert matches("body p", html, body, div, p)
    assert matches("html div.c > p", html, body, div, p)
    assert not matches("body > p", html, body, div, p)
    assert matches("body>div>p", html, body, div, p)
    assert not matches("section p", html, body, div, p)
    # The descendant search backtracks past a first partial match.
    assert matches("div div > p", node("div"), node("span"), node("div"), p)


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("a + b", "Unsupported combinator `+`"),
        ("a ~ b", "Unsupported combinator `~`"),
        ("a:hover", "Unsupported pseudo-class"),
        ("p::before", "Unsupported pseudo-class"),
        ("li:last-child", "Unsupported pseudo-class"),
        ("p:not(div p)", "Unsupported combinator in :not()"),
        ("li:nth-child(x)", "Invalid argument of :nth-child()"),
        ("a[href", "Invalid attribute selector"),
        ("a[href=/x]", "Unexpected token"),
        ("", "Selector is empty"),
        ("div >", "Unexpected token"),
    ],
)
def test_errors(selector: str, reason: str) -> None:
    with pytest.raises(SelectorError, match="Parser error") as info:
        Selector(selector)
    assert reason in str(info.value)
    assert repr(selector) in str(info.value)
    assert isinstance(info.value, TypeError)  # what Cloudflare throws
