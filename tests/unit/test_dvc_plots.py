"""The offline DVC plots template inlines the Vega libraries and fetches nothing."""

from bao.dvc_plots import LIBRARIES, offline_template


def test_template_inlines_vega_and_loads_nothing_remote():
    html = offline_template()
    assert "{plot_divs}" in html and "{scripts}" not in html  # DVC would inject CDN <script src> tags there
    assert "<script src" not in html
    for lib in LIBRARIES:
        assert f"/* {lib} (from snakemake's bundled assets) */" in html
    assert html.index("vega/vega.js") < html.index("vega-lite/vega-lite.js") < html.index("vega-embed/vega-embed.js")
    assert "vegaEmbed" in html
