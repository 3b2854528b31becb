package scim

import (
	"reflect"
	"testing"
)

// projUser is a User as the engine returns it, with an unknown extension
// the projection must handle like any other.
func projUser() Resource {
	d := patchUser()
	d["externalId"] = "ext-1"
	d["emails"] = []any{
		map[string]any{"value": "b@example.com", "type": "work", "primary": true},
		map[string]any{"value": "h@example.com", "type": "home"},
	}
	return d
}

func projGroup() Resource {
	d := patchGroup()
	d["description"] = "all of sales"
	d["members"] = []any{
		map[string]any{"value": "u1", "display": "bjensen", "type": "User"},
		map[string]any{"value": "u2", "display": "jsmith", "type": "User"},
	}
	return d
}

func TestProjection(t *testing.T) {
	miscim := func(d Resource) any { return d[MiscimUserSchema] }
	tests := []struct {
		name       string
		group      bool
		attributes string
		excluded   string
		want       func(d Resource) Resource // from the full document
	}{
		{name: "none", want: func(d Resource) Resource { return d }},
		{name: "attributes=userName", attributes: "userName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen"}
		}},
		{name: "attributes=name.givenName", attributes: "name.givenName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "name": map[string]any{"givenName": "Barbara"}}
		}},
		{name: "attributes=NAME.GIVENNAME", attributes: "NAME.GIVENNAME", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "name": map[string]any{"givenName": "Barbara"}}
		}},
		{name: "attributes=name.givenName,name.familyName", attributes: "name.givenName, name.familyName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "name": d["name"]}
		}},
		{name: "attributes=name.middleName absent", attributes: "name.middleName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen"}
		}},
		{name: `attributes=emails[type eq "work"]`, attributes: `emails[type eq "work"]`, want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"]}
		}},
		{name: `attributes=emails[value eq "a,b"]`, attributes: `emails[value eq "a,b"],active`, want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"], "active": true}
		}},
		{name: "attributes=emails.value", attributes: "emails.value", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": []any{
				map[string]any{"value": "b@example.com"}, map[string]any{"value": "h@example.com"}}}
		}},
		{name: "attributes=emails.value,emails.type", attributes: "emails.value,emails.type", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": []any{
				map[string]any{"value": "b@example.com", "type": "work"}, map[string]any{"value": "h@example.com", "type": "home"}}}
		}},
		{name: "attributes=emails,emails.value", attributes: "emails,emails.value", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"]}
		}},
		{name: "attributes=emails.value,emails", attributes: "emails.value,emails", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"]}
		}},
		{name: "attributes=userName,emails (Postman)", attributes: "userName,emails", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"]}
		}},
		{name: "attributes=URN-qualified extension attribute", attributes: MiscimUserSchema + ":userType", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", MiscimUserSchema: map[string]any{"userType": "regular"}}
		}},
		{name: "attributes=URN-qualified in other case", attributes: "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:MISCIM:2.0:USER:USERTYPE", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", MiscimUserSchema: map[string]any{"userType": "regular"}}
		}},
		{name: "attributes=bare extension URN", attributes: MiscimUserSchema, want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", MiscimUserSchema: miscim(d)}
		}},
		{name: "attributes=bare extension URN and one of its attributes", attributes: MiscimUserSchema + ":source," + MiscimUserSchema, want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", MiscimUserSchema: miscim(d)}
		}},
		{name: "attributes=core URN-qualified", attributes: UserSchema + ":name.familyName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "name": map[string]any{"familyName": "Jensen"}}
		}},
		{name: "attributes=core schema URN and an extension attribute", attributes: UserSchema + "," + MiscimUserSchema + ":source", want: func(d Resource) Resource {
			delete(d, MiscimUserSchema)
			d[MiscimUserSchema] = map[string]any{"source": "scim"}
			return d
		}},
		{name: "attributes=unknown", attributes: "nickName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen"}
		}},
		{name: "excludedAttributes=emails", excluded: "emails", want: func(d Resource) Resource { delete(d, "emails"); return d }},
		{name: "excludedAttributes=id,schemas,userName (always returned)", excluded: "id,schemas,userName", want: func(d Resource) Resource { return d }},
		{name: "excludedAttributes=name.givenName", excluded: "name.givenName", want: func(d Resource) Resource {
			d["name"] = map[string]any{"familyName": "Jensen"}
			return d
		}},
		{name: "excludedAttributes=emails.primary", excluded: "emails.primary", want: func(d Resource) Resource {
			d["emails"] = []any{
				map[string]any{"value": "b@example.com", "type": "work"},
				map[string]any{"value": "h@example.com", "type": "home"}}
			return d
		}},
		{name: "excludedAttributes=bare extension URN", excluded: MiscimUserSchema, want: func(d Resource) Resource { delete(d, MiscimUserSchema); return d }},
		{name: "excludedAttributes=extension attribute", excluded: MiscimUserSchema + ":authMethod", want: func(d Resource) Resource {
			delete(d[MiscimUserSchema].(map[string]any), "authMethod")
			return d
		}},
		{name: "excludedAttributes=META,Name", excluded: "META, Name", want: func(d Resource) Resource { delete(d, "meta"); delete(d, "name"); return d }},
		{name: "both", attributes: "userName,name,emails", excluded: "name.familyName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "u1", "userName": "bjensen", "emails": d["emails"], "name": map[string]any{"givenName": "Barbara"}}
		}},

		{name: "group excludedAttributes=members", group: true, excluded: "members", want: func(d Resource) Resource { delete(d, "members"); return d }},
		{name: "group excludedAttributes=MEMBERS,displayName", group: true, excluded: "MEMBERS,displayName", want: func(d Resource) Resource { delete(d, "members"); return d }},
		{name: "group attributes=displayName", group: true, attributes: "displayName", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "g1", "displayName": "Sales"}
		}},
		{name: "group attributes=members.value", group: true, attributes: "members.value", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "g1", "displayName": "Sales", "members": []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2"}}}
		}},
		{name: "group attributes=externalId", group: true, attributes: "externalid", want: func(d Resource) Resource {
			return Resource{"schemas": d["schemas"], "id": "g1", "displayName": "Sales", "externalId": d["externalId"]}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, fresh := User, projUser
			if tt.group {
				rs, fresh = Group, projGroup
			}
			p, err := ParseProjection(rs, tt.attributes, tt.excluded)
			if err != nil {
				t.Fatalf("ParseProjection: %v", err)
			}
			doc := fresh()
			got := p.Apply(doc)
			if !reflect.DeepEqual(doc, fresh()) {
				t.Fatalf("Apply changed its input: %#v", doc)
			}
			if want := tt.want(fresh()); !reflect.DeepEqual(got, want) {
				t.Errorf("Apply\n got %#v\nwant %#v", got, want)
			}
			if p.IsZero() != (tt.attributes == "" && tt.excluded == "") {
				t.Errorf("IsZero = %v", p.IsZero())
			}
			// An attribute Apply keeps is one Returns announces, and one
			// that Returns denies is never kept.
			for k := range fresh() {
				if _, in := got[k]; !isURN(k) && in != p.Returns(k) && (in || !isSubProjected(p, k)) {
					t.Errorf("Returns(%q) = %v, but Apply kept it: %v", k, p.Returns(k), in)
				}
			}
		})
	}
}

// isSubProjected reports whether the projection names only sub-attributes
// of k, which Apply may then leave out when none is present.
func isSubProjected(p Projection, k string) bool {
	for _, it := range p.include {
		if it.uri == "" && it.subAttr != "" && equalFoldASCII(it.name, k) {
			return true
		}
	}
	return false
}

func TestProjectionReturns(t *testing.T) {
	tests := []struct {
		rs                   *ResourceSchema
		attributes, excluded string
		name                 string
		want                 bool
	}{
		{Group, "", "", "members", true},
		{Group, "", "members", "members", false},
		{Group, "", "Members", "MEMBERS", false},
		{Group, "", `members[value eq "x"]`, "members", false},
		{Group, "", "members.display", "members", true},
		{Group, "displayName", "", "members", false},
		{Group, "displayName", "", "id", true},
		{Group, "members.value", "", "members", true},
		{Group, "displayName", "", "displayName", true},
		{Group, "externalId", "", "displayName", true}, // returned "always"
		{Group, "", "id", "id", true},
		{Group, "", "displayName", "displayName", true},
		{Group, GroupSchema, "", "members", true},
		{Group, GroupSchema + ":members", "", "members", true},
		{Group, GroupSchema + ":displayName", "", "members", false},
		{User, MiscimUserSchema, "", "emails", false},
		{User, "", MiscimUserSchema + ":emails", "emails", true},
		{User, "", "", "anything", true},
	}
	for _, tt := range tests {
		p, err := ParseProjection(tt.rs, tt.attributes, tt.excluded)
		if err != nil {
			t.Fatalf("%q/%q: %v", tt.attributes, tt.excluded, err)
		}
		if got := p.Returns(tt.name); got != tt.want {
			t.Errorf("attributes=%q excludedAttributes=%q: Returns(%q) = %v, want %v", tt.attributes, tt.excluded, tt.name, got, tt.want)
		}
	}
	var zero Projection
	if !zero.IsZero() || !zero.Returns("members") {
		t.Errorf("zero Projection")
	}
	doc := projGroup()
	if got := zero.Apply(doc); !reflect.DeepEqual(got, projGroup()) {
		t.Errorf("zero Projection Apply changed the document")
	}
}

func TestParseProjectionErrors(t *testing.T) {
	for _, tt := range []struct{ attributes, excluded string }{
		{"emails[", ""},
		{"", "emails["},
		{"userName,emails[type eq", ""},
		{"name.", ""},
		{"user name", ""},
		{"emails[type eq \"work\"", ""},
		{"", "emails]x"},
		{"urn:", ""},
		{"9lives", ""},
	} {
		_, err := ParseProjection(User, tt.attributes, tt.excluded)
		if err == nil {
			t.Errorf("attributes=%q excludedAttributes=%q: no error", tt.attributes, tt.excluded)
			continue
		}
		wantSCIMError(t, err, 400, ScimTypeInvalidValue)
	}
	for _, ok := range []string{"", " , ,", "userName,,emails", `emails[value eq "a\"],b"]`} {
		if _, err := ParseProjection(User, ok, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// Apply shares unchanged values with its input but never writes into it,
// even when the same attribute is named several ways.
func TestProjectionApplyDoesNotMutate(t *testing.T) {
	lists := []string{
		"name,name.givenName",
		"name.givenName,name",
		"emails.value,emails,emails.type",
		MiscimUserSchema + "," + MiscimUserSchema + ":userType",
		MiscimUserSchema + ":userType," + MiscimUserSchema,
	}
	for _, l := range lists {
		for _, pair := range [][2]string{{l, ""}, {"", l}, {l, l}} {
			p, err := ParseProjection(User, pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			doc := projUser()
			p.Apply(doc)
			if !reflect.DeepEqual(doc, projUser()) {
				t.Fatalf("%q/%q: input changed: %#v", pair[0], pair[1], doc)
			}
		}
	}
}
