// Package expr owns Entra's attribute-mapping expression language: parsing
// (with errors that point at the character), checking each call against
// its documented signature, evaluating against one source object's
// attributes, and recording the call tree for --explain.
//
// The language and every function follow Microsoft's "Reference for writing
// expressions for attribute mappings in Microsoft Entra Application
// Provisioning" (functions-for-customizing-application-data; entra-behavior
// §5.2, §5.3). Where that page is silent or ambiguous, the choice taken is
// written in docs/expr.md, which also lists every function's null handling.
//
// Use: Parse once, Eval many times. An *Expr is immutable and safe for
// concurrent use; Eval allocates nothing for the expressions of Metric
// Insights' default mapping.
//
// Values are null, one string, or several strings (multi-valued); booleans
// are the strings "True" and "False", as Entra renders them. Attribute names
// are resolved by exact, case-sensitive match: Entra rejects
// Replace([Description], …) when the attribute is "description"
// (MicrosoftDocs/azure-docs#58604; "The syntax is case-sensitive").
package expr
