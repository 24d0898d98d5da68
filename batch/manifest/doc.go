// Package manifest reads the manifests compliance teams hand in (CSV, Parquet
// and Excel .xlsx) into validated data-subject requests, and rejects the rows
// it cannot use with a reason a person can act on.
//
// # Columns
//
// Columns are matched by name, ignoring case, spaces, underscores, hyphens
// and punctuation, with aliases:
//
//	request_id    id, request id, ticket, ticket id, case id, reference
//	request_type  type, action, request, right
//	email         e-mail, email address, mail
//	user_id       identity, user id, customer id, external id, uid
//	submitted_at  submitted, received, received at, date, created at (optional)
//	due_at        due, due date, deadline (optional)
//
// request_id, request_type and at least one of email and user_id must be
// present, else the file is unreadable (a *FileError naming the columns
// found). Two columns meaning the same thing are an error too. Other columns
// are ignored and listed once in Info.UnknownColumns.
//
// # Rows
//
// A row needs a request id, a known type and an email or a user id, or both.
// Types: access, export, dsar, sar, copy, right of access mean access;
// deletion, delete, erasure, erase, forget, right to be forgotten, rtbf mean
// deletion, in any case and spacing. Emails are trimmed, put in Unicode
// NFC, lower-cased and syntax-checked (see normaliseEmail for what is
// accepted: a bare address with a dotted domain, no display name), so an
// address with decomposed accents (NFD) and the same address composed are
// one subject, one request content and one dedup key. Request and user ids
// are kept exactly as written once trimmed: no case folding, no
// normalisation. Ids longer than 256 bytes are rejected.
//
// Dates may be ISO 8601 (2024-01-31T09:00:00Z, with or without zone or
// seconds, 'T' or a space) or YYYY-MM-DD; without a zone they are read in
// Options.Location. Workbooks may also hold Excel date serials, and Parquet
// files TIMESTAMP, DATE or INT96 columns. When due_at is empty it is
// submitted_at + 30 days; a due date before the submission date is rejected.
//
// A repeated request id with identical content is merged (Row.Duplicate);
// with different content the later row is rejected, naming the earlier
// file:row. A Deduper passed in Options spans all manifests of one run;
// Options.NoDedup leaves it to a caller that deduplicates by itself.
//
// Every data row ends up in exactly one place: a request (new or merged) or
// a reject, so Info.Rows == Accepted + Merged + Rejected. A row that fails
// several checks is rejected for the first, in column order.
//
// # Unicode hygiene
//
// Surrounding whitespace is trimmed the same way everywhere (trimSpace:
// Unicode White_Space, including U+00A0 and U+3000). An email, request id
// or user id is rejected, naming the column and the character but never the
// value, when it holds:
//
//   - bytes that are not UTF-8 ("user id is not UTF-8 text; save the file
//     as UTF-8");
//   - a control character, category Cc ("user id contains a control
//     character (U+0009 CHARACTER TABULATION)");
//   - a bidirectional control ("request id contains a bidirectional text
//     control (U+202E RIGHT-TO-LEFT OVERRIDE)");
//   - another format character, category Cf: zero-width space and
//     joiners, soft hyphen, word joiner, a byte-order mark inside a value
//     ("user id contains an invisible format character (U+200B ZERO WIDTH
//     SPACE)");
//   - U+FFFD REPLACEMENT CHARACTER, which a tool leaves where it could not
//     decode bytes, so the id as written is already lost.
//
// Emails carry the same reasons after "not a valid email address: ". No
// value is ever altered silently: a reader that meets bytes it cannot pass
// on unchanged makes the file or the row a reject instead. CSV cells and
// Parquet strings reach the checks as raw bytes (a CSV whose first 64 KiB
// are not UTF-8 is refused as a whole). excelize decodes workbook XML
// itself and, on bytes that are not UTF-8 or characters XML forbids, ends
// the sheet early without an error, and it drops escaped UTF-16 surrogates
// (_xD800_) from cell text: so the worksheets and shared strings are first
// checked as raw bytes, and such a workbook is unreadable (ErrMalformed,
// naming the part and byte offset). Writers that put U+FFFD in place of
// bytes (excelize itself does) are caught by the U+FFFD rule.
//
// # Row numbers
//
// Rows are numbered as a spreadsheet shows them, header = row 1:
//
//   - CSV: a quoted cell spanning several lines is one row; a blank line is a
//     row of its own (as Excel shows it) and is skipped without a reject,
//     counted in Info.Blank, as is a row whose cells are all empty.
//   - xlsx: the numbers Excel shows; the header is the first non-empty row;
//     empty rows are skipped and counted in Info.Blank.
//   - Parquet: the column names count as row 1, so the first record is row 2,
//     as it would be after exporting the file to a spreadsheet. Every record
//     is a data row.
//
// # Streaming and unreadable files
//
// Readers stream: CSV through encoding/csv with a 1 MiB bound on one
// record; Parquet one page and 1,024 rows at a time; xlsx through
// excelize's row iterator (which holds the shared-strings table in memory).
// CSV may start with a UTF-8 byte-order mark, use CRLF, and be delimited by
// commas, semicolons or tabs, sniffed from the header line.
//
// An empty file, a header without data rows, binary or mislabelled content,
// an unknown extension, broken quoting, a corrupt Parquet file (including a
// page header claiming more bytes than its column chunk holds, or over 256
// MiB: parquet-go would allocate the claim before reading), a workbook part
// whose checksum fails or whose declared size its packed data cannot hold
// (excelize would ignore the one and allocate the other), or a Parquet
// column of an unusable type make Read return a *FileError whose one-line
// message names the file, and errors.Is tells which sentinel (ErrEmpty,
// ErrNoRows, ErrUnsupported, ErrMalformed, ErrColumnType, …) it wraps.
//
// # How a row flows
//
// One declaration, columnDefs in columns.go, lists the canonical columns:
// name, aliases, kind (text, email, id or date), whether the column is
// needed, and where its value goes in the batch.Request. mapHeader
// (header.go) matches a file's header against it; each reader (csv.go,
// xlsx.go, parquet.go) only turns its format into a record of cells placed
// by that mapping (Parquet chooses which physical types to accept from the
// kind); the builder validates the record column by column in declaration
// order (validate.go: clean by kind, then the column's set function), then
// the rules that span columns (checkRow), then dedups and delivers it.
//
// # Adding a column
//
//  1. batch/request.go: add the field to batch.Request. If two rows that
//     differ only in it are different requests, add it to ContentHash, last,
//     and only when it is set: otherwise every request already in a ledger
//     changes hash and a rerun rejects it as a conflict.
//  2. columns.go: add the exported ColXxx name, an idxXxx index before
//     numColumns (its position is the order of checks, hence which reject a
//     row with several faults gets), and its row in columnDefs: name, label
//     for reasons, aliases, kind, need and set. A new needContact column
//     also changes the wording of errNoContact, next to the declaration.
//  3. Its validation: a check of the value alone goes in set (a helper in
//     values.go with a table test in values_test.go, like parseType); a rule
//     between columns goes in checkRow (validate.go). Only a new kind needs
//     more: a case in builder.clean (validate.go) and in pqDecoder and
//     kind.parquetTypes (parquet.go).
//  4. Nothing else in the readers: header.go, csv.go, xlsx.go and
//     parquet.go read columnDefs.
//  5. Tests: the aliases in TestHeaderKeyAliases (values_test.go), an
//     accepted and a rejected value through Read for each format, and the
//     list under "Columns" above, which TestDocListsColumns checks against
//     columnDefs.
//  6. Outside this package, only if the value is kept or used: the ledger
//     (checkpoint: a migration and the import), the reports, and the
//     README's manifest rules.
package manifest
