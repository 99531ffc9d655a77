import jinja2
import pytest

from synth_pipeline.errors import ConfigError
from synth_pipeline.llm.templates import PromptTemplates


def test_render_strips_and_a_missing_variable_fails(tmp_path):
    (tmp_path / "greet.jinja").write_text("\nHello {{ name }}!\n\n")
    prompts = PromptTemplates(tmp_path)
    assert prompts.render("greet", name="Ada") == "Hello Ada!"
    with pytest.raises(jinja2.UndefinedError, match="name"):
        prompts.render("greet")


def test_unknown_template_names_the_folder_and_the_known_ones(tmp_path):
    (tmp_path / "a.jinja").write_text("a")
    (tmp_path / "b.jinja").write_text("b")
    with pytest.raises(ConfigError, match=r"'c': no file c.jinja in .* \(known: \['a', 'b'\]\)"):
        PromptTemplates(tmp_path).render("c")


def test_hash_follows_the_source(tmp_path):
    (tmp_path / "t.jinja").write_text("one")
    (tmp_path / "u.jinja").write_text("one")
    first = PromptTemplates(tmp_path)
    assert len(first.hash("t")) == 16 and first.hash("t") == first.hash("u")
    (tmp_path / "t.jinja").write_text("two")
    assert PromptTemplates(tmp_path).hash("t") != first.hash("t")
