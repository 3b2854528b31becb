// Command miscim tests, simulates and diagnoses SCIM provisioning from
// Microsoft Entra ID into Metric Insights.
package main

import (
	"os"

	"github.com/miscim/miscim/internal/app"
)

func main() { os.Exit(app.Main(os.Args[1:])) }
