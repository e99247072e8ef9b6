package main

import (
	"context"
	"errors"
	"io"
)

func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not yet")
}

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not yet")
}
