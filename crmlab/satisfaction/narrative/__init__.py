"""Every run-dependent sentence of the satisfaction stage, with the numbers filled in.

The notebook puts these above the matching table or figure, and ``satisfaction.json``
carries some of them (the loyalty effect, reliability flags, caveats), so the text always
agrees with the data whatever survey is analysed. Computation modules call the sentence
builders here; nothing else in the stage writes prose.

* :mod:`.results` -- sentences carried into results (flags, loyalty effect, caveats);
* :mod:`.takeaways` -- one takeaway per table or figure of the driver analysis;
* :mod:`.pls` -- the takeaways of the PLS path model and the NPS;
* :mod:`.notebook` -- the notebook's lines on what was read, fitted and written.
"""

from crmlab.satisfaction.narrative.notebook import (
    alpha_line,
    intake_line,
    nps_caveat_line,
    pls_fit_line,
    product_line,
    what_to_do,
)
from crmlab.satisfaction.narrative.pls import pls_takeaways
from crmlab.satisfaction.narrative.results import (
    driver_suppression_note,
    loyalty_model_sentence,
    loyalty_sentence,
    loyalty_suppression_note,
    no_drivers_note,
    nps_caveat,
    reliability_flags,
    single_item_note,
    suppression_sentence,
)
from crmlab.satisfaction.narrative.takeaways import takeaways

__all__ = [
    "alpha_line",
    "driver_suppression_note",
    "intake_line",
    "loyalty_model_sentence",
    "loyalty_sentence",
    "loyalty_suppression_note",
    "no_drivers_note",
    "nps_caveat",
    "nps_caveat_line",
    "pls_fit_line",
    "pls_takeaways",
    "product_line",
    "reliability_flags",
    "single_item_note",
    "suppression_sentence",
    "takeaways",
    "what_to_do",
]
