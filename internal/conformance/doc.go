// Package conformance runs Microsoft's SCIM test collection ("SCIM Tests",
// the Postman collection from AzureAD/SCIMReferenceCode, pull request #89
// version, kept in testdata/) with newman against a real `miscim serve`.
//
// Every assertion must pass except those listed, each with its reason, in
// testdata/expected-failures.yaml: an unexpected failure fails the test, and
// so does an expected failure that starts passing. Each folder must also
// have executed every request it holds and run at least the assertions
// their test scripts hold (floors, counted from the collection), so that a
// run that skipped requests cannot pass. The package has no non-test code.
package conformance
