// Package batch is the domain of ctdsr: a data-subject request (access or
// deletion), the outcomes a request can reach, and the run that carries a set
// of requests out against CleverTap.
//
// batch declares the small interfaces it consumes (the checkpoint ledger, the
// CleverTap calls) and knows nothing of SQL or HTTP. Manifest readers live in
// batch/manifest and the Parquet report writers in batch/report.
package batch
