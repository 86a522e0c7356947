{#- One parameter of a product's run, from the vars that lodestar.dbt.vars_for builds out of
    the manifest: var(<product identifier>)[<key>].

    While dbt parses, a missing parameter is none (parsing never needs the values); when a
    model runs, a missing parameter stops it with the fix. -#}
{% macro lodestar_param(product, key) -%}
    {%- set params = var(product, {}) -%}
    {%- if params is mapping and key in params -%}
        {{ return(params[key]) }}
    {%- endif -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            "dbt var " ~ product ~ "." ~ key ~ " is not set. Run dbt through Lodestar (the "
            ~ "Airflow task or lodestar.dbt.run_dbt), or pass the manifest's vars: "
            ~ "--vars \"$(lodestar dbt vars " ~ product | replace('_', '-') ~ ")\"") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- A number from the vars as a SQL double literal; none becomes a typed null. -#}
{% macro lodestar_double(value) -%}
    {%- if value is none -%}
        cast(null as double)
    {%- else -%}
        cast({{ value }} as double)
    {%- endif -%}
{%- endmacro %}
