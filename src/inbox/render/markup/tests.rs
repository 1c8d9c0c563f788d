use super::*;

fn html(text: &str) -> String {
    format(text).to_string()
}

#[test]
fn markers_around_text_format_it() {
    assert_eq!(html("*bold*"), "<strong>bold</strong>");
    assert_eq!(html("_italic_"), "<em>italic</em>");
    assert_eq!(html("~strike~"), "<s>strike</s>");
    assert_eq!(html("`a + b`"), "<code class=\"wa-code\">a + b</code>");
    assert_eq!(html("```mono```"), "<code class=\"wa-mono\">mono</code>");
    assert_eq!(
        html("Total: *$10.50*, due _today_."),
        "Total: <strong>$10.50</strong>, due <em>today</em>."
    );
    assert_eq!(html("*several words*"), "<strong>several words</strong>");
}

#[test]
fn styles_nest_and_code_shows_its_text_as_typed() {
    assert_eq!(
        html("*_bold italic_*"),
        "<strong><em>bold italic</em></strong>"
    );
    assert_eq!(
        html("~*gone* for good~"),
        "<s><strong>gone</strong> for good</s>"
    );
    assert_eq!(
        html("```*not bold* _nor this_```"),
        "<code class=\"wa-mono\">*not bold* _nor this_</code>"
    );
    assert_eq!(
        html("`x_1 * y_2`"),
        "<code class=\"wa-code\">x_1 * y_2</code>"
    );
}

#[test]
fn markers_count_only_at_word_edges_hugging_the_text() {
    for literal in [
        "a * not bold* b",
        "*not bold *",
        "t_italic_t",
        "test*test yeah*",
        "*test yeah*test",
        "snake_case_name",
        "2*3*4",
        "**",
        "a * b * c",
        "*",
        "`",
        "``",
        "``````",
    ] {
        assert_eq!(html(literal), literal, "{literal}");
    }
    assert_eq!(
        html("test *yeah tests* yeah"),
        "test <strong>yeah tests</strong> yeah"
    );
    assert_eq!(html("(*aside*)"), "(<strong>aside</strong>)");
    assert_eq!(html("**double**"), "*<strong>double</strong>*");
    assert_eq!(html("x * a *b*"), "x * a <strong>b</strong>");
}

#[test]
fn single_markers_stay_on_their_line_while_monospace_may_cross_lines() {
    assert_eq!(html("*one\ntwo*"), "*one<br>two*");
    assert_eq!(html("_a\nb_ _c_"), "_a<br>b_ <em>c</em>");
    assert_eq!(
        html("```\nfn main() {}\n```"),
        "<code class=\"wa-mono\"><br>fn main() {}<br></code>"
    );
}

#[test]
fn newlines_become_line_breaks() {
    assert_eq!(html("one\ntwo\r\n\nthree"), "one<br>two<br><br>three");
    assert_eq!(html(""), "");
}

#[test]
fn lines_starting_with_a_bullet_a_number_or_an_angle_bracket_are_lists_and_quotes() {
    assert_eq!(
        html("Items:\n- *tea*\n* milk\nThanks"),
        "Items:<ul class=\"wa-list\"><li><strong>tea</strong></li><li>milk</li></ul>Thanks"
    );
    assert_eq!(
        html("1. first\n2. second"),
        "<ol class=\"wa-list\"><li value=\"1\">first</li><li value=\"2\">second</li></ol>"
    );
    assert_eq!(
        html("> quoted\n> _still_\nreply"),
        "<blockquote class=\"wa-quote\">quoted<br><em>still</em></blockquote>reply"
    );
    for literal in [
        "-no space",
        ">no space",
        "1.no space",
        "*bold* start",
        " - indented",
    ] {
        assert!(!html(literal).contains("<li") && !html(literal).contains("<blockquote"));
    }
}

#[test]
fn a_monospace_block_keeps_lines_that_look_like_lists_as_typed() {
    assert_eq!(
        html("```\n- a\n> b```"),
        "<code class=\"wa-mono\"><br>- a<br>&#62; b</code>"
    );
    assert_eq!(
        html("- ```x\ny```\n- z"),
        "<ul class=\"wa-list\"><li><code class=\"wa-mono\">x<br>y</code></li><li>z</li></ul>"
    );
}

#[test]
fn http_and_https_urls_become_links_that_open_apart() {
    assert_eq!(
        html("See https://example.com/a_b_c?x=1&y=2."),
        "See <a href=\"https://example.com/a_b_c?x=1&#38;y=2\" rel=\"noopener noreferrer nofollow\" \
         target=\"_blank\">https://example.com/a_b_c?x=1&#38;y=2</a>."
    );
    assert_eq!(
        html("*http://example.com*"),
        "<strong><a href=\"http://example.com/\" rel=\"noopener noreferrer nofollow\" \
         target=\"_blank\">http://example.com</a></strong>"
    );
    assert_eq!(html("xhttps://example.com"), "xhttps://example.com");
    assert_eq!(html("www.example.com"), "www.example.com");
}

#[test]
fn markup_in_the_text_is_shown_as_typed() {
    assert_eq!(
        html("<script>alert(1)</script>"),
        "&#60;script&#62;alert(1)&#60;/script&#62;"
    );
    assert_eq!(
        html("<img src=x onerror=alert(1)>"),
        "&#60;img src=x onerror=alert(1)&#62;"
    );
    assert_eq!(
        html("\"quoted\" & 'single'"),
        "&#34;quoted&#34; &#38; &#39;single&#39;"
    );
}

#[test]
fn markers_around_markup_format_only_its_escaped_text() {
    assert_eq!(
        html("*<script>alert(1)</script>*"),
        "<strong>&#60;script&#62;alert(1)&#60;/script&#62;</strong>"
    );
    assert_eq!(
        html("_<img src=x onerror=alert(1)>_"),
        "<em>&#60;img src=x onerror=alert(1)&#62;</em>"
    );
    assert_eq!(
        html("```<b onmouseover=\"x\">```"),
        "<code class=\"wa-mono\">&#60;b onmouseover=&#34;x&#34;&#62;</code>"
    );
    assert_eq!(
        html("> <iframe src=javascript:alert(1)>"),
        "<blockquote class=\"wa-quote\">&#60;iframe src=javascript:alert(1)&#62;</blockquote>"
    );
}

#[test]
fn no_other_scheme_becomes_a_link() {
    for text in [
        "javascript:alert(1)",
        "[click](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "data:text/html;base64,PHNjcmlwdD4=",
        "JaVaScRiPt:alert(1)",
    ] {
        let out = html(text);
        assert!(!out.contains('<'), "{text}: {out}");
    }
    assert_eq!(
        html("[click](javascript:alert(1))"),
        "[click](javascript:alert(1))"
    );
}

#[test]
fn a_url_with_quotes_cannot_leave_its_attribute() {
    assert_eq!(
        html("https://example.com/\"onmouseover=\"alert(1)"),
        "<a href=\"https://example.com/\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">\
         https://example.com/</a>&#34;onmouseover=&#34;alert(1)"
    );
    assert_eq!(
        html("https://example.com/a'onmouseover='alert(1)"),
        "<a href=\"https://example.com/a&#39;onmouseover=&#39;alert(1)\" \
         rel=\"noopener noreferrer nofollow\" target=\"_blank\">\
         https://example.com/a&#39;onmouseover=&#39;alert(1)</a>"
    );
    assert_eq!(
        html("https://example.com/<script>"),
        "<a href=\"https://example.com/\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">\
         https://example.com/</a>&#60;script&#62;"
    );
}

#[test]
fn long_runs_of_lone_markers_stay_as_typed() {
    let text = "_x,".repeat(20_000);
    assert_eq!(html(&text), text);
    let fences = "```x ".repeat(20_000);
    assert_eq!(html(&fences), fences);
    let brackets = format!("https://example.com/{}", ")".repeat(50_000));
    assert!(html(&brackets).ends_with(&")".repeat(50_000)));
}
