#!/usr/bin/env python3
"""Validates Clever Data API and Events API v3.0 response bodies against their Swagger 2.0 files.

    validate_clever.py SPEC.yml [SPEC.yml ...] TARGET=BODY.json [TARGET=BODY.json ...]

TARGET is a definition name (UsersResponse, EventResponse, NotFound, ...) or a request path,
a template of the spec (/users/{id}/sections) or a concrete one (/v3.0/users/abc/sections),
whose GET 200 schema is used. The specs' definitions become JSON Schema (draft 7):

- `x-nullable: true` also allows null (on a `$ref` too);
- every object definition and object property with `properties` gets
  `additionalProperties: false`, so a misspelt property fails; `ext` stays open, and so do the
  values of an event's `previous_attributes` (Clever's `additionalProperties: {type: object}`
  there is its generator's way of saying "any value": a previous email is a string);
- `allOf` is merged into one object, and `Event` dispatches on its discriminator `type`: an
  event whose `type` is `users.updated` is validated by the definition `users.updated`;
- a list envelope (`…sResponse` with a `data` array) may carry an integer `count`, which the
  specs' `count=true` parameter asks for but whose response property they leave out; and a
  one-object envelope (`UserResponse`, `EventResponse`, ...) may carry `links` (its `self`
  link), as Clever's answers do though the specs leave it out.

Prints one line per problem and exits 1 if there is any; exits 0 silently otherwise.
"""
import json
import re
import sys

import jsonschema
import yaml

OPEN_OBJECTS = {"ext"}


def convert(node, name=None):
    """One Swagger schema node as JSON Schema."""
    if not isinstance(node, dict):
        return node
    nullable = node.get("x-nullable") is True
    if "$ref" in node:
        ref = {"$ref": node["$ref"]}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    out = {}
    for key, value in node.items():
        if key in ("x-nullable", "x-validation", "discriminator", "format", "description"):
            continue
        if key == "properties":
            out["properties"] = {prop: convert(schema, prop) for prop, schema in value.items()}
        elif key == "items":
            out["items"] = convert(value)
        elif key == "additionalProperties":
            out["additionalProperties"] = {} if name == "previous_attributes" else convert(value)
        elif key == "allOf":
            out["allOf"] = [convert(part) for part in value]
        else:
            out[key] = value
    if "properties" in out and name not in OPEN_OBJECTS:
        out.setdefault("type", "object")
        out["additionalProperties"] = False
    if nullable:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def merged(definition, definitions):
    """A definition's `allOf` parts folded into one object: properties and required joined."""
    if "allOf" not in definition:
        return definition
    result = {"type": "object", "properties": {}, "required": []}
    for part in definition["allOf"]:
        if "$ref" in part:
            part = merged(definitions[part["$ref"].split("/")[-1]], definitions)
        result["properties"].update(part.get("properties", {}))
        result["required"] += [name for name in part.get("required", []) if name not in result["required"]]
    if not result["required"]:
        del result["required"]
    return result


def load(paths):
    definitions, spec_paths = {}, {}
    for path in paths:
        with open(path) as handle:
            spec = yaml.safe_load(handle)
        definitions.update(spec.get("definitions", {}))
        spec_paths.update(spec.get("paths", {}))
    schemas = {name: convert(merged(definition, definitions)) for name, definition in definitions.items()}
    events = sorted(name for name, definition in definitions.items()
                    if any(part.get("$ref") == "#/definitions/Event" for part in definition.get("allOf", [])))
    if events:
        schemas["Event"] = {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": events}},
            "allOf": [{"if": {"properties": {"type": {"const": name}}}, "then": {"$ref": f"#/definitions/{name}"}}
                      for name in events],
        }
    for name, schema in schemas.items():
        data = schema.get("properties", {}).get("data", {})
        if name.endswith("sResponse") and data.get("type") == "array":
            schema["properties"]["count"] = {"type": "integer", "minimum": 0}
        elif name.endswith("Response") and "$ref" in data:
            schema["properties"]["links"] = {"type": "array", "items": {"$ref": "#/definitions/Link"}}
    return schemas, spec_paths


def schema_name(target, spec_paths):
    """The definition a path's GET 200 answer is, or `target` itself when it names a definition."""
    if "/" not in target:
        return target
    path = target.split("?")[0]
    if path.startswith("/v3.0/"):
        path = path[len("/v3.0"):]
    for template, operations in spec_paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(template)) + "$"
        if template == path or re.match(pattern, path):
            ref = operations.get("get", {}).get("responses", {}).get("200", {}).get("schema", {}).get("$ref", "")
            return ref.split("/")[-1] or None
    return None


def main(arguments):
    specs = [argument for argument in arguments if argument.endswith((".yml", ".yaml")) and "=" not in argument]
    pairs = [argument for argument in arguments if argument not in specs]
    if not specs or not pairs:
        print(__doc__, file=sys.stderr)
        return 2
    schemas, spec_paths = load(specs)
    problems = 0
    for pair in pairs:
        target, _, path = pair.rpartition("=")
        name = schema_name(target, spec_paths)
        if name not in schemas:
            print(f"{path}: no definition for {target} in the specs")
            problems += 1
            continue
        with open(path) as handle:
            body = json.load(handle)
        validator = jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": schemas})
        for error in validator.iter_errors(body):
            location = "/".join(str(part) for part in error.absolute_path)
            print(f"{path}: {name}: at /{location}: {error.message[:300]}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
