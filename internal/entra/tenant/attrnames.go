package tenant

import (
	"slices"
	"strconv"
	"strings"
)

// Entra source-attribute names of the attributes the model gives a
// meaning to. Everything else an export carries is kept under its own name.
const (
	attrObjectID          = "objectId"
	attrUPN               = "userPrincipalName"
	attrDisplayName       = "displayName"
	attrGivenName         = "givenName"
	attrSurname           = "surname"
	attrMail              = "mail"
	attrMailNickname      = "mailNickname"
	attrOtherMails        = "otherMails"
	attrAccountEnabled    = "accountEnabled"
	attrDescription       = "description"
	attrTelephoneNumber   = "telephoneNumber"
	attrProxyAddresses    = "proxyAddresses"
	attrOfficeName        = "physicalDeliveryOfficeName"
	attrMobile            = "mobile"
	attrFax               = "facsimileTelephoneNumber"
	onPremExtensionAttrs  = "onPremisesExtensionAttributes"
	customSecurityAttrs   = "customSecurityAttributes"
	graphDeletedDateTime  = "deletedDateTime"
	graphODataType        = "@odata.type"
	graphRemoved          = "@removed"
	graphMembersDelta     = "members@delta"
	graphMembers          = "members"
	graphBusinessPhones   = "businessPhones"
	graphID               = "id"
	graphOfficeLocation   = "officeLocation"
	graphMobilePhone      = "mobilePhone"
	graphFaxNumber        = "faxNumber"
	graphUserODataType    = "#microsoft.graph.user"
	graphGroupODataType   = "#microsoft.graph.group"
	graphPasswordProfile  = "passwordProfile"
	extensionAttrPrefix   = "extensionAttribute"
	maxExtensionAttribute = 15
)

var extensionAttributeNames = func() [maxExtensionAttribute]string {
	var a [maxExtensionAttribute]string
	for i := range a {
		a[i] = extensionAttrPrefix + strconv.Itoa(i+1)
	}
	return a
}()

// UserAttributes returns the Entra source-attribute names of users that
// miscim knows (docs/tenant.md, "Attribute names"): loaders translate
// Graph and CSV spellings into them. Users may carry others under the
// names their export used. The slice is the caller's own copy.
func UserAttributes() []string { return slices.Clone(userAttributes) }

// GroupAttributes returns the Entra source-attribute names of groups
// that miscim knows, in a slice of the caller's own.
func GroupAttributes() []string { return slices.Clone(groupAttributes) }

var userAttributes = append([]string{
	attrObjectID, attrUPN, attrDisplayName, attrGivenName, attrSurname, attrMail, attrMailNickname,
	attrOtherMails, attrAccountEnabled, "userType", "department", "jobTitle", "companyName",
	"employeeId", "employeeType", "employeeHireDate", "usageLocation", "preferredLanguage",
	"streetAddress", "city", "state", "postalCode", "country", attrOfficeName, attrTelephoneNumber,
	attrMobile, attrFax, attrProxyAddresses, "createdDateTime", "creationType", "externalUserState",
	"onPremisesImmutableId", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
	"onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesUserPrincipalName",
	"onPremisesSyncEnabled", "ageGroup", "consentProvidedForMinor", "legalAgeGroupClassification",
}, extensionAttributeNames[:]...)

var groupAttributes = []string{
	attrObjectID, attrDisplayName, attrDescription, attrMail, attrMailNickname, "mailEnabled",
	"securityEnabled", "groupTypes", "visibility", "classification", "createdDateTime",
	"isAssignableToRole", "membershipRule", "onPremisesSyncEnabled", "onPremisesSamAccountName",
	"onPremisesSecurityIdentifier", attrProxyAddresses,
}

// graphUserRenames maps Graph property names to the Entra source-attribute
// names the provisioning service uses for them (the attribute list of the
// Entra ID source schema: the old directory names survive there).
var graphUserRenames = map[string]string{
	graphID:             attrObjectID,
	graphOfficeLocation: attrOfficeName,
	graphMobilePhone:    attrMobile,
	graphFaxNumber:      attrFax,
}

// graphKeyOf is graphUserRenames' inverse plus the properties the Graph
// loader flattens, for AttrSource's JSON paths.
func graphKeyOf(attr string) string {
	switch attr {
	case attrObjectID:
		return graphID
	case attrOfficeName:
		return graphOfficeLocation
	case attrMobile:
		return graphMobilePhone
	case attrFax:
		return graphFaxNumber
	case attrTelephoneNumber:
		return graphBusinessPhones + "[0]"
	}
	if isExtensionAttribute(attr) {
		return onPremExtensionAttrs + "." + attr
	}
	return attr
}

func isExtensionAttribute(name string) bool {
	n, ok := strings.CutPrefix(name, extensionAttrPrefix)
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i >= 1 && i <= maxExtensionAttribute && strconv.Itoa(i) == n
}

// multiValued are the attributes that hold several values; a CSV cell of
// one of them may list several values separated by ";".
var multiValued = map[string]bool{attrOtherMails: true, attrProxyAddresses: true, "groupTypes": true}

// canonicalUser and canonicalGroup find a known name case-insensitively.
var canonicalUser, canonicalGroup = func() (map[string]string, map[string]string) {
	u, g := map[string]string{}, map[string]string{}
	for _, n := range userAttributes {
		u[strings.ToLower(n)] = n
	}
	for _, n := range groupAttributes {
		g[strings.ToLower(n)] = n
	}
	return u, g
}()
