package scim

import (
	"encoding/json"
	"strings"
	"testing"
)

const testBase = "https://mi.example.com/scim/v2"

// roundTrip marshals v and decodes it as a client would.
func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServiceProviderConfigPlaywrightKeys checks the keys Microsoft's
// Playwright tests look up, case-sensitively (EndpointTests.cs).
func TestServiceProviderConfigPlaywrightKeys(t *testing.T) {
	doc := roundTrip(t, ServiceProviderConfig(testBase))
	for _, k := range []string{"authenticationSchemes", "meta", "bulk", "eTag", "etag", "filter", "patch", "sort", "schemas", "changePassword"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("ServiceProviderConfig has no %q", k)
		}
	}
	if doc["patch"].(map[string]any)["supported"] != true {
		t.Errorf("patch.supported = %v, want true", doc["patch"])
	}
	bulk := doc["bulk"].(map[string]any)
	if bulk["supported"] != false || bulk["maxOperations"] != 0.0 || bulk["maxPayloadSize"] != 0.0 {
		t.Errorf("bulk = %v", bulk)
	}
	filter := doc["filter"].(map[string]any)
	if filter["supported"] != true || filter["maxResults"] != float64(DiscoveryMaxResults) {
		t.Errorf("filter = %v", filter)
	}
	for _, k := range []string{"sort", "etag", "eTag"} {
		if doc[k].(map[string]any)["supported"] != true {
			t.Errorf("%s.supported = %v, want true", k, doc[k])
		}
	}
	if doc["changePassword"].(map[string]any)["supported"] != false {
		t.Errorf("changePassword = %v", doc["changePassword"])
	}
	schemes := doc["authenticationSchemes"].([]any)
	if len(schemes) != 1 {
		t.Fatalf("authenticationSchemes = %v", schemes)
	}
	s := schemes[0].(map[string]any)
	if s["type"] != "oauthbearertoken" || s["name"] != "OAuth Bearer Token" || s["primary"] != true ||
		s["description"] != "Authentication scheme using the OAuth Bearer Token Standard" {
		t.Errorf("authentication scheme = %v", s)
	}
	meta := doc["meta"].(map[string]any)
	if meta["resourceType"] != "ServiceProviderConfig" || meta["location"] != testBase+"/ServiceProviderConfig" {
		t.Errorf("meta = %v", meta)
	}
	if got := doc["schemas"].([]any); len(got) != 1 || got[0] != ServiceProviderSchema {
		t.Errorf("schemas = %v", got)
	}
}

func TestResourceTypes(t *testing.T) {
	rts := ResourceTypes(testBase + "/")
	if len(rts) != 2 {
		t.Fatalf("got %d resource types, want 2", len(rts))
	}
	user := roundTrip(t, rts[0])
	if user["endpoint"] != "/Users" || user["name"] != "User" || user["id"] != "User" || user["schema"] != UserSchema {
		t.Errorf("Resources[0] = %v", user)
	}
	exts := user["schemaExtensions"].([]any)
	if len(exts) != 1 || exts[0].(map[string]any)["schema"] != MiscimUserSchema || exts[0].(map[string]any)["required"] != false {
		t.Errorf("schemaExtensions = %v", exts)
	}
	if loc := user["meta"].(map[string]any)["location"]; loc != testBase+"/ResourceTypes/User" {
		t.Errorf("location = %v", loc)
	}
	group := roundTrip(t, rts[1])
	if group["endpoint"] != "/Groups" || group["schema"] != GroupSchema {
		t.Errorf("Resources[1] = %v", group)
	}
	if _, ok := group["schemaExtensions"]; ok {
		t.Errorf("Group lists schemaExtensions: %v", group["schemaExtensions"])
	}
	// Microsoft's GetEmptyGroups test walks every resource for these keys.
	for _, rt := range []map[string]any{user, group} {
		for _, k := range []string{"endpoint", "name", "meta", "schema", "schemas", "id"} {
			if _, ok := rt[k]; !ok {
				t.Errorf("%v has no %q", rt["id"], k)
			}
		}
	}
	if rt, ok := ResourceType(testBase, "group"); !ok || rt["endpoint"] != "/Groups" {
		t.Errorf("ResourceType(group) = %v, %v", rt, ok)
	}
	if _, ok := ResourceType(testBase, "Device"); ok {
		t.Error("ResourceType(Device) found")
	}
}

func TestSchemas(t *testing.T) {
	all := Schemas(testBase)
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "User Account") {
		t.Error(`Schemas does not contain "User Account" (Microsoft's SchemaIsReturned test)`)
	}
	ids := map[string]map[string]any{}
	for _, s := range all {
		doc := roundTrip(t, s)
		ids[doc["id"].(string)] = doc
	}
	for _, id := range []string{UserSchema, MiscimUserSchema, GroupSchema} {
		if ids[id] == nil {
			t.Errorf("Schemas lacks %s", id)
		}
	}
	user := ids[UserSchema]
	if user["description"] != "User Account" {
		t.Errorf("User description = %v", user["description"])
	}
	var userName, emails map[string]any
	for _, a := range user["attributes"].([]any) {
		m := a.(map[string]any)
		for _, k := range []string{"name", "type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"} {
			if _, ok := m[k]; !ok {
				t.Errorf("attribute %v lacks %q", m["name"], k)
			}
		}
		switch m["name"] {
		case "userName":
			userName = m
		case "emails":
			emails = m
		}
	}
	if userName == nil || userName["required"] != true || userName["uniqueness"] != "server" || userName["caseExact"] != false || userName["type"] != "string" {
		t.Errorf("userName = %v", userName)
	}
	if emails == nil || emails["multiValued"] != true || len(emails["subAttributes"].([]any)) != 3 {
		t.Errorf("emails = %v", emails)
	}
	group := ids[GroupSchema]
	for _, a := range group["attributes"].([]any) {
		m := a.(map[string]any)
		if m["name"] != "members" {
			continue
		}
		for _, sa := range m["subAttributes"].([]any) {
			sm := sa.(map[string]any)
			if sm["name"] == "$ref" {
				if refs, _ := sm["referenceTypes"].([]any); len(refs) != 1 || refs[0] != "User" {
					t.Errorf("members.$ref referenceTypes = %v", sm["referenceTypes"])
				}
			}
		}
	}
	if loc := group["meta"].(map[string]any)["location"]; loc != testBase+"/Schemas/"+GroupSchema {
		t.Errorf("location = %v", loc)
	}
	if s, ok := SchemaByID(testBase, strings.ToUpper(MiscimUserSchema)); !ok || s["id"] != MiscimUserSchema {
		t.Errorf("SchemaByID = %v, %v", s, ok)
	}
	if _, ok := SchemaByID(testBase, EnterpriseUserSchema); ok {
		t.Error("SchemaByID(enterprise) found a schema miscim does not keep")
	}
}
