// Package manifesttest builds binary manifest fixtures (Excel workbooks and
// Parquet files) from readable Go descriptions, so tests keep their source
// of truth in code and derive broken variants from it.
//
// It is for tests and demos only: nothing in ctdsr's binary imports it.
package manifesttest
