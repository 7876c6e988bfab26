// Package archtest holds the repository's architecture tests and nothing else: the
// cyclomatic complexity of every production function (gocyclo's count, at most
// 20) and the import arrows docs/design.md promises. They live in one package of
// their own because they judge the whole module, not the package they sit in.
package archtest
