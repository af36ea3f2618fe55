from wranglerpy.runtime.htmlrewriter import tokens

DOC = (
    "<!DOCTYPE html><html><head><title>a</b>&amp;</title></head><!-- c -->"
    "<body a=1 b='2' c d = \"4\"><br/><p>x < y</p><!---->"
    "<script>if (a</b) {}</script ><textarea><p></textarea></body></html>\n"
)


def tokenize(chunks: list[str]) -> list[tokens.Token]:
    tokenizer = tokens.Tokenizer()
    result: list[tokens.Token] = []

    def consume(stream):
        for token in stream:
            result.append(token)
            if isinstance(token, tokens.StartTag) and token.name in ("title", "script", "textarea"):
                tokenizer.rawtext = token.name

    for chunk in chunks:
        consume(tokenizer.feed(chunk))
    consume(tokenizer.close())
    return result


def source(stream: list[tokens.Token]) -> str:
    return "".join(t.text if isinstance(t, tokens.Text) else t.raw for t in stream)


def test_tokens_keep_their_source_text_at_every_split() -> None:
    for cut in range(len(DOC) + 1):
        assert source(tokenize([DOC[:cut], DOC[cut:]])) == DOC, cut
    assert source(tokenize(list(DOC))) == DOC


def test_start_tag_attributes() -> None:
    body = next(t for t in tokenize([DOC]) if isinstance(t, tokens.StartTag) and t.name == "body")
    assert [(a.name, a.value, a.raw) for a in body.attrs] == [
        ("a", "1", "a=1"),
        ("b", "2", "b='2'"),
        ("c", "", "c"),
        ("d", "4", 'd = "4"'),
    ]
    br = next(t for t in tokenize([DOC]) if isinstance(t, tokens.StartTag) and t.name == "br")
    assert br.self_closing


def test_raw_text_elements_hide_markup() -> None:
    names = [t.name for t in tokenize([DOC]) if isinstance(t, tokens.StartTag | tokens.EndTag)]
    assert "b" not in names  # `</b>` inside <title> and <script> is text
    assert names.count("p") == 2  # <p> and </p>; the <p> inside <textarea> is text


def test_text_nodes_end_with_a_last_chunk() -> None:
    texts = [
        (t.text, t.last) for t in tokenize(["<p>ab", "cd</p>ef"]) if isinstance(t, tokens.Text)
    ]
    assert texts == [("ab", False), ("cd", True), ("ef", False), ("", True)]
