// Package datasets reads and verifies the datasets of the experiments.
package datasets
