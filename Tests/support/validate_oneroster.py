#!/usr/bin/env python3
"""Validates OneRoster response bodies against the component schemas of an OpenAPI file.

    validate_oneroster.py SPEC [--partial] [--v1p1] SCHEMA=BODY.json [SCHEMA=BODY.json ...]

SCHEMA is a name under #/components/schemas (UserSetDType, SingleClassDType,
imsx_StatusInfoDType, ...). Refs such as #/components/schemas/OrgGUIDRefDType resolve inside
SPEC. With --partial, required properties are not enforced (answers to `fields=`, which hold
only the properties asked for); types, enums and unknown properties still are. With --v1p1,
a user is OneRoster 1.1's: one `role` and a list of `orgs` instead of 1.2's `roles`, and no
preferred names or pronouns (ONEROSTER-REST-1.1.md; there is no 1.1 OpenAPI file).
Prints one line per problem and exits 1 if there is any; exits 0 silently otherwise.
"""
import json
import sys

import jsonschema


def without_required(node):
    if isinstance(node, dict):
        return {key: without_required(value) for key, value in node.items() if key != "required"}
    if isinstance(node, list):
        return [without_required(item) for item in node]
    return node


V1P1_ROLES = ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"]


def as_v1p1(components):
    user = components["schemas"]["UserDType"]
    properties = dict(user["properties"])
    for name in ["roles", "preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns", "userProfiles",
                 "primaryOrg", "userMasterIdentifier"]:
        properties.pop(name, None)
    properties["role"] = {"type": "string", "enum": V1P1_ROLES}
    properties["orgs"] = {"type": "array", "items": {"$ref": "#/components/schemas/OrgGUIDRefDType"}}
    required = [name for name in user.get("required", []) if name != "roles"] + ["role", "orgs"]
    components["schemas"]["UserDType"] = dict(user, properties=properties, required=required)
    return components


def main(arguments):
    if len(arguments) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(arguments[0]) as handle:
        components = json.load(handle)["components"]
    flags = {"--partial", "--v1p1"}
    if "--v1p1" in arguments[1:]:
        components = as_v1p1(components)
    if "--partial" in arguments[1:]:
        components = without_required(components)
    problems = 0
    for pair in (argument for argument in arguments[1:] if argument not in flags):
        name, _, path = pair.partition("=")
        if name not in components["schemas"]:
            print(f"{path}: no schema {name} in the spec")
            problems += 1
            continue
        with open(path) as handle:
            body = json.load(handle)
        schema = {"$ref": f"#/components/schemas/{name}", "components": components}
        validator = jsonschema.Draft7Validator(schema)
        for error in validator.iter_errors(body):
            location = "/".join(str(part) for part in error.absolute_path)
            print(f"{path}: {name}: at /{location}: {error.message[:300]}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
