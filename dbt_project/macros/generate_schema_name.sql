{#- A model's schema is the product identifier its properties set (lodestar.naming's
    warehouse_relation), as is: no target-schema prefix, so every target names the
    tables the same way and lineage finds them where the naming rule says. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
