// Package paper holds the numbers reported by Continuous-in-Depth Neural
// Networks (arXiv 2008.02389) and the project's pre-registered criteria, as
// data with their sources.
package paper
