package report

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// schemaOf derives the Parquet schema of T and checks it against the
// guardrails in the package documentation. A tag parquet-go rejects (it
// panics) comes back as an error.
func schemaOf[T any]() (s *parquet.Schema, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("schema of %T: %v", *new(T), p)
		}
	}()
	s = parquet.SchemaOf(new(T))
	if err := checkFields(nil, s.Fields()); err != nil {
		return nil, fmt.Errorf("schema of %T: %w", *new(T), err)
	}
	return s, nil
}

func checkFields(path []string, fields []parquet.Field) error {
	for _, f := range fields {
		p := append(path[:len(path):len(path)], f.Name())
		if !f.Leaf() {
			if err := checkFields(p, f.Fields()); err != nil {
				return err
			}
			continue
		}
		lt := f.Type().LogicalType()
		if lt == nil {
			continue
		}
		name := strings.Join(p, ".")
		switch t := lt.Value.(type) {
		case *format.TimestampType:
			if _, micros := t.Unit.Value.(*format.MicroSeconds); !micros || !t.IsAdjustedToUTC {
				return fmt.Errorf("column %s is %s; tag it timestamp(microsecond) (UTC)", name, t)
			}
		case *format.JsonType:
			return fmt.Errorf("column %s uses the JSON logical type; write JSON as a plain string", name)
		}
	}
	return nil
}
