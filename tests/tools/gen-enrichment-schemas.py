#!/usr/bin/env python3
"""Write the JSON Schemas of the enrichment configurations furrow reads and of the entities
its enrichments emit into schemas/<vendor>/<name>/jsonschema/<version>.

The constraints follow Snowplow's published definitions on Iglu Central (same properties,
types, enums and required lists, so a configuration valid for Snowplow is valid for furrow and
the other way round); the wording of the descriptions is furrow's. Run from the repository
root; it rewrites the files, which are committed."""
import json
import os

SELF_DESC = "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
SP = "com.snowplowanalytics.snowplow"
SPE = "com.snowplowanalytics.snowplow.enrichments"
CRITERION = ("^iglu:([a-zA-Z0-9-_.]+)/([a-zA-Z0-9-_]+)/([a-zA-Z0-9-_]+)/"
             "([1-9][0-9]*|\\*)-((?:0|[1-9][0-9]*)|\\*)-((?:0|[1-9][0-9]*)|\\*)$")
PII_FIELDS = ["user_id", "user_ipaddress", "user_fingerprint", "domain_userid", "network_userid",
              "ip_organization", "ip_domain", "tr_orderid", "ti_orderid", "mkt_term", "mkt_content",
              "se_category", "se_action", "se_label", "se_property", "mkt_clickid",
              "refr_domain_userid", "domain_sessionid"]
HASHES = ["MD2", "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"]


def schema(vendor, name, version, desc, body):
    s = {"$schema": SELF_DESC, "description": desc,
         "self": {"vendor": vendor, "name": name, "format": "jsonschema", "version": version}}
    s.update(body)
    return vendor, name, version, s


def config(vendor, name, version, desc, params, required=("name", "vendor", "enabled", "parameters"),
           extra=None, definitions=None):
    props = {"vendor": {"type": "string"}, "name": {"type": "string"}, "enabled": {"type": "boolean"}}
    if params is not None:
        props["parameters"] = params
    if extra:
        props.update(extra)
    body = {"type": "object", "properties": props}
    if definitions:
        body["definitions"] = definitions
    body["required"] = list(required)
    body["additionalProperties"] = False
    return schema(vendor, name, version, desc, body)


def obj(props, required=None, additional=False):
    o = {"type": "object", "properties": props}
    if required:
        o["required"] = required
    if additional is not None:
        o["additionalProperties"] = additional
    return o


def asset(names, desc=None):
    o = {"type": "object", "properties": {"database": {"enum": names},
                                          "uri": {"type": "string", "format": "uri"}},
         "required": ["database", "uri"]}
    if desc:
        o["description"] = desc
    return o


STR_ARRAY = {"type": "array", "items": {"type": "string"}}
REF_ARRAY = {"$ref": "#/definitions/stringArray"}
MKT = ["mktMedium", "mktSource", "mktTerm", "mktContent", "mktCampaign"]

out = []

# anon_ip
out.append(config(SP, "anon_ip", "1-0-0", "Configuration of the anon_ip enrichment: how many IPv4 octets of user_ipaddress to mask",
                  obj({"anonOctets": {"type": "number", "minimum": 1, "maximum": 4}}, ["anonOctets"])))
out.append(config(SP, "anon_ip", "1-0-1", "Configuration of the anon_ip enrichment: how many IPv4 octets and IPv6 segments of user_ipaddress to mask",
                  obj({"anonOctets": {"description": "IPv4 octets to mask, counted from the right", "type": "number", "minimum": 1, "maximum": 4},
                       "anonSegments": {"description": "IPv6 segments to mask, counted from the right", "type": "integer", "minimum": 1, "maximum": 8}},
                      ["anonOctets"])))

# campaign_attribution
fields_100 = obj({k: REF_ARRAY for k in MKT}, MKT)
fields_101 = obj(dict({k: REF_ARRAY for k in MKT},
                      mktClickId={"type": "object", "additionalProperties": {"type": "string"}}), MKT)
out.append(config(SP, "campaign_attribution", "1-0-0", "Configuration of the campaign_attribution enrichment: which page URL parameters fill mkt_*",
                  obj({"mapping": {"enum": ["static", "script"]}, "fields": fields_100}, ["fields"]),
                  definitions={"stringArray": STR_ARRAY}))
out.append(config(SP, "campaign_attribution", "1-0-1", "Configuration of the campaign_attribution enrichment: which page URL parameters fill mkt_*, and extra click-id parameters",
                  obj({"mapping": {"type": ["string", "null"], "enum": ["static", "script"]}, "fields": fields_101}, ["fields"]),
                  definitions={"stringArray": STR_ARRAY}))

# referer_parser
ref_params = {"internalDomains": STR_ARRAY, "database": {"type": "string"},
              "uri": {"type": "string", "format": "uri"}}
out.append(config(SP, "referer_parser", "2-0-0", "Configuration of the referer_parser enrichment: the referers database and the site's own domains",
                  obj(ref_params, ["internalDomains", "database", "uri"])))
custom = {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": obj(
    {"domains": {"type": "array", "minItems": 1, "items": {"type": "string"}}, "parameters": STR_ARRAY}, ["domains"])}}
out.append(config(SP, "referer_parser", "2-0-1", "Configuration of the referer_parser enrichment: the referers database, the site's own domains and extra referers",
                  obj(dict(ref_params, referrers=custom), ["internalDomains", "database", "uri"])))

# ua_parser_config
out.append(config(SP, "ua_parser_config", "1-0-0", "Configuration of the ua_parser enrichment (uap-core rules bundled with the parser)",
                  {"type": "object", "maxProperties": 0}, required=("name", "vendor", "enabled")))
out.append(config(SP, "ua_parser_config", "1-0-1", "Configuration of the ua_parser enrichment, optionally with its own uap-core regexes file",
                  obj({"database": {"type": "string"}, "uri": {"type": "string", "format": "uri"}}), required=("name", "vendor", "enabled")))

# event_fingerprint_config
out.append(config(SP, "event_fingerprint_config", "1-0-0", "Configuration of the event_fingerprint enrichment",
                  obj({"hashAlgorithm": {"enum": ["MD5"]}, "excludeParameters": STR_ARRAY}, ["hashAlgorithm", "excludeParameters"])))
out.append(config(SP, "event_fingerprint_config", "1-0-1", "Configuration of the event_fingerprint enrichment, with a choice of digest",
                  obj({"hashAlgorithm": {"enum": ["MD5", "SHA1", "SHA256", "SHA384", "SHA512"]}, "excludeParameters": STR_ARRAY},
                      ["hashAlgorithm", "excludeParameters"])))

# ip_lookups
ipl = {"geo": asset(["GeoLite2-City.mmdb", "GeoIP2-City.mmdb"]), "isp": asset(["GeoIP2-ISP.mmdb"]),
       "domain": asset(["GeoIP2-Domain.mmdb"]), "connectionType": asset(["GeoIP2-Connection-Type.mmdb"])}
ipl_base = {"vendor": {"type": "string", "maxLength": 256}, "name": {"type": "string", "maxLength": 256}}
for ver, dbs in (("2-0-0", ipl), ("2-0-1", dict(ipl, asn=asset(["GeoLite2-ASN.mmdb"])))):
    v, n, vv, s = config(SP, "ip_lookups", ver, "Configuration of the ip_lookups enrichment: the MaxMind databases to read",
                         obj(dbs, None))
    s["properties"].update(ipl_base)
    s["properties"] = {k: s["properties"][k] for k in ("vendor", "name", "enabled", "parameters")}
    out.append((v, n, vv, s))

# cookie_extractor_config
out.append(config(SP, "cookie_extractor_config", "1-0-0", "Configuration of the cookie_extractor enrichment: the cookies to copy into derived contexts",
                  obj({"cookies": STR_ARRAY}, ["cookies"])))

# http_header_extractor_config
out.append(config(SPE, "http_header_extractor_config", "1-0-0", "Configuration of the http_header_extractor enrichment: a regex over header names",
                  obj({"headersPattern": {"type": "string"}}, ["headersPattern"])))

# iab_spiders_and_robots_enrichment
iab = {"ipFile": asset(["ip_exclude_current_cidr.txt"], "IP addresses and CIDR blocks of known robots"),
       "excludeUseragentFile": asset(["exclude_current.txt"], "User agent patterns of known robots"),
       "includeUseragentFile": asset(["include_current.txt"], "User agent patterns of known browsers")}
iab_req = ("vendor", "name", "enabled", "parameters")
out.append(config(SPE, "iab_spiders_and_robots_enrichment", "1-0-0", "Configuration of the IAB spiders and robots enrichment",
                  obj(iab, list(iab)), required=iab_req))
iab101 = dict(iab)
iab101["includeUseragents"] = {"description": "More user agent substrings (case-insensitive) that mark a browser", "type": "array", "items": {"type": "string"}}
iab101["excludeUseragents"] = {"description": "More user agent substrings (case-insensitive) that mark a robot", "type": "array", "items": {"type": "string"}}
out.append(config(SPE, "iab_spiders_and_robots_enrichment", "1-0-1", "Configuration of the IAB spiders and robots enrichment, with extra user agent substrings",
                  obj(iab101, list(iab)), required=iab_req))

# pii_enrichment_config
pii_item = {"type": "object", "properties": {
    "pojo": obj({"field": {"enum": PII_FIELDS}}, ["field"]),
    "json": obj({"field": {"enum": ["contexts", "derived_contexts", "unstruct_event"]},
                 "schemaCriterion": {"type": "string", "pattern": CRITERION},
                 "jsonPath": {"type": "string", "pattern": "^\\$.*$"}}, ["field", "schemaCriterion", "jsonPath"])},
    "oneOf": [{"required": ["pojo"]}, {"required": ["json"]}], "additionalProperties": False}
strategy = obj({"pseudonymize": obj({"hashFunction": {"enum": HASHES}, "salt": {"type": "string"}}, ["hashFunction", "salt"])},
               ["pseudonymize"])
pii_params = obj({"pii": {"type": "array", "items": pii_item}, "strategy": strategy}, ["pii", "strategy"])
pii_req = ("vendor", "name", "enabled", "emitEvent", "parameters")
out.append(config(SPE, "pii_enrichment_config", "2-0-0", "Configuration of the PII pseudonymisation enrichment",
                  pii_params, required=pii_req, extra={"emitEvent": {"type": "boolean"}}))
v, n, vv, s = config(SPE, "pii_enrichment_config", "2-0-1", "Configuration of the PII pseudonymisation enrichment, optionally only for anonymous tracking",
                     pii_params, required=pii_req, extra={"emitEvent": {"type": "boolean"}})
s["properties"]["anonymousOnly"] = {"type": "boolean", "description": "Pseudonymise only events sent with the SP-Anonymous header"}
out.append((v, n, vv, s))

# javascript_script_config
out.append(config(SP, "javascript_script_config", "1-0-0", "Configuration of the JavaScript enrichment: a script (base64) defining process(event)",
                  obj({"script": {"type": "string", "description": "The script, base64-encoded"}}, ["script"])))
out.append(config(SP, "javascript_script_config", "1-0-1", "Configuration of the JavaScript enrichment: a script (base64) defining process(event, params) and its params",
                  obj({"script": {"type": "string", "description": "The script, base64-encoded"},
                       "config": {"type": "object", "description": "Passed to process as its second argument"}}, ["script"])))

# currency_conversion_config
out.append(config(SP, "currency_conversion_config", "1-0-0", "Configuration of the currency conversion enrichment (Open Exchange Rates)",
                  obj({"apiKey": {"type": "string", "description": "Open Exchange Rates app id"},
                       "baseCurrency": {"type": "string", "description": "ISO 4217 code the amounts are converted into"},
                       "rateAt": {"enum": ["EOD_PRIOR"], "description": "Which rate: the end of the day before the collector timestamp"},
                       "accountType": {"type": "string", "enum": ["DEVELOPER", "ENTERPRISE", "UNLIMITED"]}},
                      ["apiKey", "baseCurrency", "rateAt", "accountType"])))

# api_request_enrichment_config
CRITERION_OLD = ("^iglu:[a-zA-Z0-9-_.]+/[a-zA-Z0-9-_]+/[a-zA-Z0-9-_]+/"
                 "([1-9][0-9]*|\\*)-((?:0|[1-9][0-9]*)|\\*)-((?:0|[1-9][0-9]*)|\\*)$")
SCHEMA_URI = "^iglu:([a-zA-Z0-9-_.]+)/([a-zA-Z0-9-_]+)/([a-zA-Z0-9-_]+)/([1-9][0-9]*(?:-(?:0|[1-9][0-9]*)){2})$"
JSON_FIELDS = {"type": "string", "enum": ["unstruct_event", "contexts", "derived_contexts"]}


def api_params(cache_min, ignore):
    inp = {"type": "object", "properties": {
        "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "The {{key}} it fills in the URI"},
        "pojo": {"type": "object", "properties": {"field": {"type": "string", "description": "An atomic column"}}, "additionalProperties": False},
        "json": {"type": "object", "properties": {"field": JSON_FIELDS,
                                                  "schemaCriterion": {"type": "string", "pattern": CRITERION_OLD},
                                                  "jsonPath": {"type": "string", "pattern": "^\\$.*$"}},
                 "additionalProperties": False}},
        "additionalProperties": False, "minProperties": 2, "maxProperties": 2, "required": ["key"]}
    http = {"type": "object", "properties": {
        "method": {"type": "string", "enum": ["GET", "POST", "PUT"]},
        "uri": {"type": "string", "description": "URI template with {{key}} placeholders"},
        "timeout": {"type": "integer", "minimum": 1, "maximum": 60000, "description": "Milliseconds"},
        "authentication": {"type": "object", "properties": {"httpBasic": {"type": "object", "properties": {
            "username": {"type": "string"}, "password": {"type": "string"}},
            "required": ["username", "password"], "additionalProperties": False}}, "additionalProperties": False}},
        "required": ["method", "uri", "timeout", "authentication"], "additionalProperties": False}
    output = {"type": "object", "properties": {
        "schema": {"type": "string", "pattern": SCHEMA_URI, "description": "Schema of the context made"},
        "json": {"type": "object", "properties": {"jsonPath": {"type": "string", "pattern": "^\\$.*$"}},
                 "required": ["jsonPath"], "additionalProperties": False}},
        "required": ["schema"], "minProperties": 2, "maxProperties": 2, "additionalProperties": False}
    props = {"inputs": {"type": "array", "items": inp},
             "api": {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {"http": http}, "additionalProperties": False},
             "outputs": {"type": "array", "minItems": 1, "items": output},
             "cache": {"type": "object", "properties": {"size": {"type": "integer", "minimum": cache_min, "description": "Entries"},
                                                        "ttl": {"type": "integer", "minimum": 0, "maximum": 86400, "description": "Seconds"}},
                       "additionalProperties": False, "required": ["size", "ttl"]}}
    if ignore:
        props["ignoreOnError"] = {"type": ["boolean", "null"], "description": "A failed lookup adds nothing instead of failing the event"}
    return obj(props, ["inputs", "api", "outputs", "cache"])


for ver, cmin, ign in (("1-0-0", 1, False), ("1-0-1", 0, False), ("1-0-2", 0, True)):
    out.append(config(SPE, "api_request_enrichment_config", ver,
                      "Configuration of the API request enrichment: an HTTP lookup whose JSON answer becomes contexts", api_params(cmin, ign)))

# sql_query_enrichment_config
def sql_params(ignore):
    inp = {"type": "object", "properties": {
        "placeholder": {"type": "integer", "minimum": 1, "maximum": 64, "description": "The ? it binds, from 1"},
        "pojo": {"type": "object", "properties": {"field": {"type": "string"}}, "additionalProperties": False, "required": ["field"]},
        "json": {"type": "object", "properties": {"field": JSON_FIELDS,
                                                  "schemaCriterion": {"type": "string", "pattern": CRITERION},
                                                  "jsonPath": {"type": "string"}},
                 "additionalProperties": False, "required": ["field", "schemaCriterion", "jsonPath"]}},
        "additionalProperties": False, "minProperties": 2, "maxProperties": 2, "required": ["placeholder"]}
    db = {"type": "object", "properties": {"host": {"type": "string"}, "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                           "sslMode": {"type": "boolean"}, "username": {"type": "string", "minLength": 1},
                                           "password": {"type": "string"}, "database": {"type": "string", "minLength": 1}},
          "required": ["host", "port", "sslMode", "username", "password", "database"], "additionalProperties": False}
    props = {"inputs": {"type": "array", "items": inp},
             "database": {"oneOf": [{"type": "object", "properties": {"postgresql": db}, "required": ["postgresql"], "additionalProperties": False},
                                    {"type": "object", "properties": {"mysql": db}, "required": ["mysql"]}],
                          "additionalProperties": True},
             "query": {"type": "object", "properties": {"sql": {"type": "string", "description": "With ? placeholders"}},
                       "required": ["sql"], "additionalProperties": False},
             "output": {"type": "object", "properties": {
                 "expectedRows": {"type": "string", "enum": ["AT_LEAST_ONE", "AT_LEAST_ZERO", "AT_MOST_ONE", "EXACTLY_ONE"]},
                 "json": {"type": "object", "properties": {
                     "schema": {"type": "string", "pattern": SCHEMA_URI},
                     "propertyNames": {"type": "string", "enum": ["AS_IS", "CAMEL_CASE", "PASCAL_CASE", "SNAKE_CASE", "LOWER_CASE", "UPPER_CASE"]},
                     "describes": {"type": "string", "enum": ["ALL_ROWS", "EVERY_ROW"]}},
                     "required": ["schema", "propertyNames", "describes"], "additionalProperties": False}},
                 "additionalProperties": False},
             "cache": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}, "ttl": {"type": "integer", "minimum": 0, "maximum": 86400}},
                       "additionalProperties": False, "required": ["size", "ttl"]}}
    if ignore:
        props["ignoreOnError"] = {"type": ["boolean", "null"], "description": "A failed lookup adds nothing instead of failing the event"}
    return obj(props, ["inputs", "database", "query", "output", "cache"])


for ver, ign in (("1-0-0", False), ("1-0-1", True)):
    out.append(config(SPE, "sql_query_enrichment_config", ver,
                      "Configuration of the SQL query enrichment: a query whose rows become contexts", sql_params(ign)))

# Entities the enrichments emit.
nullable = {"type": ["string", "null"]}
out.append(schema(SP, "ua_parser_context", "1-0-0", "User agent, OS and device parsed with uap-core's rules",
                  obj({"useragentFamily": {"type": "string"}, "useragentMajor": nullable, "useragentMinor": nullable,
                       "useragentPatch": nullable, "useragentVersion": {"type": "string"}, "osFamily": {"type": "string"},
                       "osMajor": nullable, "osMinor": nullable, "osPatch": nullable, "osPatchMinor": nullable,
                       "osVersion": {"type": "string"}, "deviceFamily": {"type": "string"}},
                      ["useragentFamily", "useragentMajor", "useragentMinor", "osFamily", "deviceFamily"])))
out.append(schema("org.ietf", "http_cookie", "1-0-0", "One HTTP cookie",
                  obj({"name": {"type": "string", "maxLength": 4096}, "value": {"type": ["string", "null"], "maxLength": 4096}},
                      ["name", "value"])))
out.append(schema("org.ietf", "http_header", "1-0-0", "One HTTP header",
                  obj({"name": {"type": "string", "maxLength": 4096}, "value": {"type": "string", "maxLength": 4096}},
                      ["name", "value"])))
out.append(schema("com.iab.snowplow", "spiders_and_robots", "1-0-0", "Outcome of the IAB/ABC spiders and robots check",
                  obj({"spiderOrRobot": {"description": "true when the IP address or user agent is on the robot lists", "type": "boolean"},
                       "category": {"description": "BROWSER, or the kind of robot", "enum": ["SPIDER_OR_ROBOT", "ACTIVE_SPIDER_OR_ROBOT", "INACTIVE_SPIDER_OR_ROBOT", "BROWSER"]},
                       "reason": {"description": "Which check failed, or PASSED_ALL", "enum": ["FAILED_IP_EXCLUDE", "FAILED_UA_INCLUDE", "FAILED_UA_EXCLUDE", "PASSED_ALL"]},
                       "primaryImpact": {"description": "What a robot distorts: page impressions, ad impressions, both, unknown, or none", "enum": ["PAGE_IMPRESSIONS", "AD_IMPRESSIONS", "PAGE_AND_AD_IMPRESSIONS", "UNKNOWN", "NONE"]}},
                      ["spiderOrRobot", "category", "reason", "primaryImpact"])))
pojo_mod = obj({"fieldName": {"enum": PII_FIELDS, "description": "The column"},
                "originalValue": {"type": "string", "description": "Its value before pseudonymisation"},
                "modifiedValue": {"type": "string", "maxLength": 128, "description": "Its value after"}},
               ["fieldName", "originalValue", "modifiedValue"])
pojo_mod = {k: pojo_mod[k] for k in ("type", "properties")} | {"additionalProperties": False, "required": pojo_mod["required"]}
json_mod = {"type": "object", "properties": {"fieldMapping": obj(
    {"fieldName": {"enum": ["contexts", "derived_contexts", "unstruct_event"], "description": "The JSON column"},
     "jsonPath": {"type": "string", "description": "The configured JSONPath"},
     "originalValue": {"type": "string", "description": "The value before pseudonymisation"},
     "modifiedValue": {"type": "string", "maxLength": 128, "description": "The value after"},
     "schema": {"type": "string", "description": "The entity's schema", "pattern": CRITERION}},
    ["fieldName", "jsonPath", "originalValue", "modifiedValue", "schema"])}}
pii_t = {"type": "object", "properties": {
    "pii": {"type": "object", "properties": {
        "pojo": {"description": "Columns that were pseudonymised", "type": "array", "items": pojo_mod},
        "json": {"description": "JSON values that were pseudonymised", "type": "array", "items": json_mod}},
        "anyOf": [{"required": ["pojo"]}, {"required": ["json"]}], "additionalProperties": False},
    "strategy": obj({"pseudonymize": obj({"hashFunction": {"enum": HASHES, "description": "The digest used"}}, ["hashFunction"])},
                    ["pseudonymize"])},
    "required": ["pii", "strategy"], "additionalProperties": False}
asn_num = {"type": "integer", "minimum": 0, "maximum": 2147483647, "description": "The autonomous system number of the address"}
asn_org = {"type": ["string", "null"], "description": "The organisation that registered the autonomous system"}
out.append(schema(SP, "asn", "1-0-0", "The autonomous system of user_ipaddress, from the ip_lookups enrichment",
                  obj({"number": asn_num, "organization": asn_org}, ["number"])))
out.append(schema(SP, "asn", "1-0-1", "The autonomous system of user_ipaddress, from the ip_lookups enrichment",
                  obj({"number": asn_num, "organization": asn_org,
                       "likelyBot": {"type": "boolean", "description": "true when the system belongs to hosting providers, data centres and the like"}},
                      ["number"])))
out.append(schema(SP, "pii_transformation", "1-0-0", "What the PII enrichment pseudonymised in one event", pii_t))
out.append(schema(SP, "parent_event", "1-0-0", "The event another event was made from (the PII enrichment's pii_transformation event)",
                  obj({"parentEventId": {"type": "string", "format": "uuid", "description": "The parent's event_id"}}, ["parentEventId"])))

for vendor, name, version, s in out:
    d = os.path.join("schemas", vendor, name, "jsonschema")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, version), "w") as f:
        json.dump(s, f, indent=2)
        f.write("\n")
print(len(out), "schemas written")
