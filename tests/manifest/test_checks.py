"""Every rule of lodestar.manifest.checks, each with a failing manifest and its exact message."""

from __future__ import annotations

import pytest

from lodestar.manifest import load_folder
from lodestar.manifest.dataflow import find_cycles, traced_outputs

from .conftest import MANIFESTS, Workspace

pytestmark = pytest.mark.unit

PA = "product-affinity"
RO = "retail-orders"
ORPHAN = (
    "serves no use case and no traced output is built from it, so nothing ties it to the "
    "North Star Metric (hint: list the use cases it serves under useCases, derive a traced "
    "output from it (derivedFrom), or declare traceability.exempt with the reason)"
)


def test_reference_manifests_are_valid() -> None:
    catalog = load_folder(MANIFESTS)

    assert catalog.errors == []
    assert sorted(catalog.products) == [PA, RO]
    assert catalog.is_valid(PA) and catalog.is_valid(RO)


# --- unique ids -----------------------------------------------------------------------------


def test_duplicate_goal_id(workspace: Workspace) -> None:
    workspace.edit(PA, "- id: raise-revenue-per-order\n", "- id: raise-basket-breadth\n")
    first = workspace.line(PA, "raise-basket-breadth")
    where = workspace.at(PA, "raise-basket-breadth", 2)

    assert workspace.messages("unique-id") == [
        f"{where}: business.goals[2].id: goal id 'raise-basket-breadth' is declared twice "
        f"(first on line {first}) (hint: names must be unique within a product; rename or "
        "remove one)"
    ]


def test_duplicate_product_name_across_files(workspace: Workspace) -> None:
    copy = workspace.folder / "zz-copy.yaml"
    copy.write_text(workspace.text(RO), encoding="utf-8")

    catalog = load_folder(workspace.folder)

    assert [str(e) for e in catalog.errors] == [
        f"{copy}:5:9: metadata.name: product 'retail-orders' is already declared in "
        f"{workspace.path(RO)} (hint: product names are unique across the folder; "
        "rename one of them)"
    ]
    assert catalog.sources[RO] == workspace.path(RO)
    assert catalog.broken == {copy: RO}


def test_input_named_like_an_output(workspace: Workspace) -> None:
    workspace.edit(RO, "    - name: online_retail\n", "    - name: orders\n")
    where = workspace.at(RO, "name: orders", shift=6)

    assert workspace.messages("unique-id") == [
        f"{where}: build.inputs[0].name: input 'orders' has the name of an output of this "
        "product (hint: derivedFrom names inputs and outputs alike; rename the input)"
    ]


def test_duplicate_column_and_check_names(workspace: Workspace) -> None:
    workspace.edit(RO, "- {name: detail}", "- {name: reason}")
    workspace.edit(RO, "{name: order_ids_unique,", "{name: orders_present,")
    first = workspace.line(RO, "{name: reason}")

    assert [(e.field, e.message) for e in workspace.errors("unique-id")] == [
        ("build.steps[1].checks[1].name", "quality check 'orders_present' is declared twice"),
        (
            "build.outputs[3].columns[2].name",
            f"column of quarantine 'reason' is declared twice (first on line {first})",
        ),
    ]


# --- references within a product -----------------------------------------------------------


def test_dangling_goal_reference(workspace: Workspace) -> None:
    workspace.edit(PA, "goal: raise-revenue-per-order", "goal: raise-revenue-per-ordr")
    where = workspace.at(PA, "raise-revenue-per-ordr\n")

    assert workspace.messages() == [
        f"{where}: business.hypotheses[1].goal: hypothesis 'bundles-raise-revenue' names goal "
        "'raise-revenue-per-ordr', which is not declared (hint: did you mean "
        "'raise-revenue-per-order'?)"
    ]
    assert workspace.errors()[0].rule == "reference"


def test_dangling_initiative_and_measure_of_a_hypothesis(workspace: Workspace) -> None:
    workspace.edit(PA, "initiative: bundle-offers", "initiative: discounts")
    workspace.edit(
        PA,
        "measure: revenue_per_order\n      expectedDirection",
        "measure: margin\n      expectedDirection",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'discounts')}: business.hypotheses[1].initiative: hypothesis "
        "'bundles-raise-revenue' names initiative 'discounts', which is not declared "
        "(hint: ids declared under business.initiatives: bundle-offers, cross-sell-emails, "
        "fbt-suggestions)",
        f"{workspace.at(PA, 'margin')}: business.hypotheses[1].measure: hypothesis "
        "'bundles-raise-revenue' expects measure 'margin' to move, which is not declared "
        "(hint: ids declared under business.measures: attach_rate, basket_breadth, "
        "revenue_per_order)",
    ]


def test_use_case_applies_an_undeclared_hypothesis(workspace: Workspace) -> None:
    workspace.edit(PA, "hypotheses: [emails-raise-breadth]", "hypotheses: [emails-raise-bredth]")

    assert workspace.messages() == [
        f"{workspace.at(PA, 'emails-raise-bredth')}: business.useCases[1].hypotheses[0]: "
        "use case 'cross-sell-campaigns' applies hypothesis 'emails-raise-bredth', which is "
        "not declared (hint: did you mean 'emails-raise-breadth'?)"
    ]


def test_output_serves_an_undeclared_use_case(workspace: Workspace) -> None:
    workspace.edit(PA, "useCases: [cross-sell-campaigns]", "useCases: [campaigns]")

    assert workspace.messages() == [
        f"{workspace.at(PA, 'campaigns]')}: build.outputs[5].useCases[0]: output "
        "'campaign_audiences' serves use case 'campaigns', which is not declared "
        "(hint: did you mean 'cross-sell-campaigns'?)"
    ]


def test_output_produced_by_an_unknown_or_a_quality_step(workspace: Workspace) -> None:
    workspace.edit(
        RO,
        "      producedBy: ingest\n      partitionedBy: period\n      role: quarantine",
        "      producedBy: checks\n      partitionedBy: period\n      role: quarantine",
    )
    workspace.edit(
        RO,
        "canonical description.\n      format: parquet\n      producedBy: ingest",
        "canonical description.\n      format: parquet\n      producedBy: ingst",
    )

    assert workspace.messages("reference") == [
        f"{workspace.at(RO, 'ingst')}: build.outputs[2].producedBy: output 'products' is "
        "produced by step 'ingst', which is not declared (hint: did you mean 'ingest'?)",
        f"{workspace.at(RO, 'producedBy: checks', shift=12)}: build.outputs[3].producedBy: "
        "output 'quarantine' is produced by 'checks', a quality step, which writes no output "
        "(hint: name the spark or dbt step that writes it)",
    ]


def test_measure_needs_a_declared_output_and_column(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "output: goal_measures\n      column: basket_breadth",
        "output: goal_measure\n      column: basket_breadth",
    )
    workspace.edit(PA, "column: revenue_per_order\n", "column: revenue\n")
    output_at = workspace.at(PA, "output: goal_measure\n", shift=8)
    column_at = workspace.at(PA, "column: revenue\n", shift=8)

    assert workspace.messages() == [
        f"{output_at}: business.measures[1].output: measure 'basket_breadth' is produced by "
        "output 'goal_measure', which is not declared (hint: did you mean 'goal_measures'?)",
        f"{column_at}: business.measures[2].column: measure 'revenue_per_order' reads column "
        "'revenue', which 'goal_measures' does not declare (hint: did you mean "
        "'revenue_per_order'?)",
    ]
    assert {e.rule for e in workspace.errors()} == {"measure"}


def test_goal_and_north_star_need_declared_measures(workspace: Workspace) -> None:
    workspace.edit(PA, "    measure: attach_rate\n  goals:", "    measure: attach\n  goals:")
    workspace.edit(
        PA, "measure: basket_breadth\n      baseline", "measure: breadth\n      baseline"
    )
    nsm_at = workspace.at(PA, "measure: attach\n", shift=9)
    goal_at = workspace.at(PA, "measure: breadth\n", shift=9)

    assert workspace.messages("measure") == [
        f"{nsm_at}: business.northStar.measure: the North Star Metric 'cross-sell-attach-rate' "
        "is measure 'attach', which no measure declares (hint: did you mean 'attach_rate'?)",
        f"{goal_at}: business.goals[1].measure: goal 'raise-basket-breadth' is tracked by "
        "measure 'breadth', which no measure declares (hint: did you mean 'basket_breadth'?)",
    ]


def test_dimension_needs_a_declared_output_and_column(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "output: pair_rules\n      column: antecedent",
        "output: pair_rules\n      column: antecedant",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'antecedant')}: business.dimensions[1].column: dimension "
        "'product' reads column 'antecedant', which 'pair_rules' does not declare "
        "(hint: did you mean 'antecedent'?)"
    ]
    assert workspace.errors()[0].rule == "reference"


def test_step_parameters_name_declared_inputs_and_columns(workspace: Workspace) -> None:
    workspace.edit(PA, "orderLines: order_lines", "orderLines: basket_lines")
    workspace.edit(RO, "orderId: InvoiceNo", "orderId: Invoice")
    input_at = workspace.at(PA, "orderLines: basket_lines", shift=12)
    column_at = workspace.at(RO, "orderId: Invoice", shift=9)

    assert workspace.messages() == [
        f"{input_at}: build.steps[0].params.orderLines: step 'affinity' reads input "
        "'basket_lines', which is not declared (hint: ids declared under build.inputs: "
        "order_lines, orders, products)",
        f"{column_at}: build.steps[0].params.columns.orderId: step 'ingest' reads column "
        "'Invoice', which 'online_retail' does not declare (hint: did you mean 'InvoiceNo'?)",
    ]


def test_quality_check_names_a_declared_output_and_column(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "output: pair_rules, assertion: row_count_min",
        "output: pair_rule, assertion: row_count_min",
    )
    workspace.edit(PA, "column: confidence, min: 0", "column: conf, min: 0")

    assert workspace.messages() == [
        f"{workspace.at(PA, 'pair_rule,')}: build.steps[2].checks[0].output: quality check "
        "'rules_present' checks output 'pair_rule', which is not declared "
        "(hint: did you mean 'pair_rules'?)",
        f"{workspace.at(PA, 'conf,')}: build.steps[2].checks[1].column: quality check "
        "'confidence_in_range' reads column 'conf', which 'pair_rules' does not declare "
        "(hint: columns of pair_rules: antecedent, confidence, consequent, lift, support)",
    ]


def test_derived_from_names_an_input_or_output_and_a_column(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "{name: period, derivedFrom: [orders.period]}",
        "{name: period, derivedFrom: [orders.month, ordrs.period, period]}",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'orders.month')}: build.outputs[7].columns[0].derivedFrom[0]: "
        "column goal_measures.period is derived from 'orders.month', but 'orders' declares "
        "no column 'month' (hint: columns of orders: distinct_items, order_id, period, "
        "revenue)",
        f"{workspace.at(PA, 'ordrs.period')}: build.outputs[7].columns[0].derivedFrom[1]: "
        "column goal_measures.period is derived from 'ordrs.period', but 'ordrs' is neither "
        "an input nor an output of this product (hint: did you mean 'orders'?)",
        f"{workspace.at(PA, ', period]}', shift=2)}: build.outputs[7].columns[0].derivedFrom[2]: "
        "'period' is not '<input or output>.<column>' (hint: write the input or output name, "
        "a dot and the column, e.g. order_lines.order_id)",
    ]


def test_on_inputs_needs_an_input_from_another_product(workspace: Workspace) -> None:
    workspace.edit(RO, 'cron: "@daily"', "onInputs: true")

    assert workspace.messages() == [
        f"{workspace.at(RO, 'onInputs: true', shift=10)}: build.schedule.onInputs: onInputs is "
        "set but the product reads no other product's output (hint: give a cron instead, or "
        "read an input by product and output)"
    ]


# --- references across products -------------------------------------------------------------


def test_input_names_an_unknown_product_or_output(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "product: retail-orders\n      output: orders\n",
        "product: retail-order\n      output: orders\n",
    )
    workspace.edit(PA, "output: products\n", "output: items\n")
    product_at = workspace.at(PA, "product: retail-order\n", shift=9)

    assert workspace.messages("reference") == [
        f"{product_at}: build.inputs[1].product: input 'orders' reads product 'retail-order', "
        "which no manifest declares (hint: did you mean 'retail-orders'?)",
        f"{workspace.at(PA, 'output: items', shift=8)}: build.inputs[2].output: input "
        "'products' reads output "
        "'items' of 'retail-orders', which that product does not declare (hint: outputs of "
        "retail-orders: order_lines, orders, products, quarantine)",
    ]


def test_input_columns_exist_upstream(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "output: orders\n      columns:\n        - {name: order_id}",
        "output: orders\n      columns:\n        - {name: basket}",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, '{name: basket}', shift=7)}: build.inputs[1].columns[0].name: "
        "input 'orders' reads column 'basket', which 'retail-orders.orders' does not declare "
        "(hint: columns of retail-orders.orders: country, customer_id, distinct_items, "
        "line_count, order_id, ordered_at, period, revenue)"
    ]


def test_input_of_a_product_whose_manifest_is_invalid(workspace: Workspace) -> None:
    workspace.edit(RO, "  version: 1.0.0", "  version: one")
    fix = f"fix the errors reported for {workspace.path(RO)} first"
    expected = [
        f"{workspace.at(PA, 'product: retail-orders', n, shift=9)}: "
        f"build.inputs[{n - 1}].product: input '{name}' reads product 'retail-orders', whose "
        f"manifest {workspace.path(RO)} is invalid (hint: {fix})"
        for n, name in [(1, "order_lines"), (2, "orders"), (3, "products")]
    ]

    errors = workspace.errors()

    assert [str(e) for e in errors if e.location.file == workspace.path(PA)] == expected
    assert [e.rule for e in errors] == ["dependency"] * 3 + ["schema"]


def test_north_star_reference_resolves(workspace: Workspace) -> None:
    workspace.edit(RO, "id: cross-sell-attach-rate", "id: attach-rate")

    assert workspace.messages() == [
        f"{workspace.at(RO, 'attach-rate')}: business.northStarRef.id: northStarRef names NSM "
        "'attach-rate' of 'product-affinity', but it declares 'cross-sell-attach-rate' "
        "(hint: reference the NSM by the id under northStar in that product's manifest)"
    ]


def test_north_star_reference_to_an_unknown_product_or_itself(workspace: Workspace) -> None:
    workspace.edit(RO, "    product: product-affinity\n", "    product: affinity\n")

    assert workspace.messages("reference") == [
        f"{workspace.at(RO, 'product: affinity', shift=9)}: business.northStarRef.product: "
        "northStarRef names product 'affinity', which no manifest declares (hint: did you "
        "mean 'product-affinity'?)"
    ]

    workspace.edit(RO, "    product: affinity\n", "    product: retail-orders\n")

    assert workspace.messages("reference") == [
        f"{workspace.at(RO, 'product: retail-orders', shift=9)}: "
        "business.northStarRef.product: northStarRef points at this product itself "
        "(hint: declare the metric under business.northStar instead)"
    ]


# --- cycles ---------------------------------------------------------------------------------


def test_cycle_between_two_products(workspace: Workspace) -> None:
    workspace.edit(
        RO,
        "  inputs:\n",
        "  inputs:\n    - name: recommendations\n      product: product-affinity\n"
        "      output: cross_sell_recommendations\n",
    )
    text = (
        "products read each other's outputs in a cycle: product-affinity -> retail-orders -> "
        "product-affinity (hint: a product may only read products upstream of it; remove one "
        "of these inputs)"
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'product: retail-orders', shift=9)}: build.inputs[0].product: {text}",
        f"{workspace.at(RO, 'product: product-affinity', 2, shift=9)}: "
        f"build.inputs[0].product: {text}",
    ]
    assert {e.rule for e in workspace.errors()} == {"cycle"}


def test_product_reading_its_own_output(workspace: Workspace) -> None:
    workspace.edit(
        RO,
        "  inputs:\n",
        "  inputs:\n    - name: previous\n      product: retail-orders\n      output: orders\n",
    )

    assert workspace.messages("cycle") == [
        f"{workspace.at(RO, 'product: retail-orders', shift=9)}: build.inputs[0].product: "
        "product 'retail-orders' reads its own output (hint: a product may only read products "
        "upstream of it; remove one of these inputs)"
    ]


def test_find_cycles_reports_one_shortest_cycle_per_strongly_connected_part() -> None:
    graph = {"a": ["b"], "b": ["c", "a"], "c": ["a"], "d": ["d"], "e": ["a"], "f": []}

    assert find_cycles(graph) == [["a", "b"], ["d"]]


def test_find_cycles_survives_a_long_chain() -> None:
    size = 5000
    graph = {f"p{i:05d}": [f"p{i + 1:05d}"] for i in range(size)}
    graph[f"p{size:05d}"] = ["p00000"]

    cycles = find_cycles(graph)

    assert len(cycles) == 1
    assert cycles[0] == sorted(graph)


# --- traceability ---------------------------------------------------------------------------


def test_output_serving_no_use_case(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "      producedBy: affinity\n      useCases: [affinity-reports]\n",
        "      producedBy: affinity\n",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'name: item_support')}: build.outputs[0].useCases: output "
        f"'item_support' {ORPHAN}"
    ]
    assert workspace.errors()[0].rule == "traceability"


def test_source_aligned_outputs_trace_through_their_readers(workspace: Workspace) -> None:
    traced = traced_outputs(load_folder(workspace.folder).products)

    assert {o for p, o in traced if p == RO} == {"order_lines", "orders", "products"}

    workspace.edit(
        PA, "{name: description, derivedFrom: [products.description]}", "{name: description}"
    )

    assert workspace.messages() == [
        f"{workspace.at(RO, 'name: products')}: build.outputs[2].useCases: output 'products' "
        f"{ORPHAN}"
    ]


def test_exemption_and_use_cases_contradict(workspace: Workspace) -> None:
    workspace.edit(
        PA,
        "      role: north-star\n      useCases: [fbt-recommendations]\n",
        "      role: north-star\n      useCases: [fbt-recommendations]\n      traceability:\n"
        "        exempt: Kept for the history page of the product.\n",
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'Kept for')}: build.outputs[8].traceability.exempt: output "
        "'nsm_history' serves use cases and also declares an exemption (hint: remove "
        "traceability.exempt: an output that serves a use case traces)"
    ]


def test_use_case_served_by_no_output(workspace: Workspace) -> None:
    workspace.edit(
        PA, "      useCases: [cross-sell-campaigns]\n", "      useCases: [affinity-reports]\n"
    )
    workspace.edit(
        PA, "useCases: [cross-sell-campaigns, affinity-reports]", "useCases: [affinity-reports]"
    )

    assert workspace.messages() == [
        f"{workspace.at(PA, 'cross-sell-campaigns')}: business.useCases[1].id: use case "
        "'cross-sell-campaigns' is served by no output (hint: add its id to useCases of the "
        "outputs that serve it, or remove it)"
    ]


def test_an_invalid_reader_suspends_tracing_instead_of_cascading(workspace: Workspace) -> None:
    workspace.edit(PA, "  version: 1.0.0", "  version: 1.0")

    errors = workspace.errors()

    assert [(e.location.file.name if e.location.file else None, e.rule) for e in errors] == [
        ("product-affinity.yaml", "schema"),
        ("retail-orders.yaml", "dependency"),
    ]


def test_an_unparseable_reader_suspends_tracing_too(workspace: Workspace) -> None:
    # a YAML syntax error: nothing of the file is known, not even which outputs it reads
    workspace.edit(PA, "  version: 1.0.0", "  version: [1.0.0")

    errors = workspace.errors()

    assert [(e.location.file.name if e.location.file else None, e.rule) for e in errors] == [
        ("product-affinity.yaml", "yaml"),
        ("retail-orders.yaml", "dependency"),
    ]
    assert "whose manifest" in str(errors[1]) and "could not be read" in str(errors[1])
