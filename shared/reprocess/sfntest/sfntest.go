// Package sfntest serves the StartExecution action of the AWS Step
// Functions API on a loopback port, for tests of code that starts
// executions.
//
// There is no Step Functions API emulator here (aws-local-stepfunctions
// runs a state machine definition in-process; it does not serve the API),
// so this server speaks the API's wire protocol itself: AWS JSON 1.0 (POST
// /, X-Amz-Target: AWSStepFunctions.<Action>, Content-Type
// application/x-amz-json-1.0, errors as {"__type": ..., "message": ...}
// with HTTP 400). It records every request and implements StartExecution's
// documented name rules for standard workflows (docs/aws-facts.md §4.3): a
// new name starts an execution; a name that is still running with identical
// input returns that execution; a running name with another input, or a
// closed one with any input, fails with ExecutionAlreadyExists. Executions
// never finish on their own: Close marks them closed.
package sfntest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Request is one recorded API request.
type Request struct {
	Method, Target, ContentType string
	// Authorized is true when the request carried a SigV4 Authorization
	// header.
	Authorized bool
	// StateMachineARN, Name and Input are StartExecution's parameters.
	StateMachineARN, Name, Input string
}

// Execution is one execution the server started.
type Execution struct {
	ARN, StateMachineARN, Name, Input string
	Closed                            bool
}

// Server is a running fake Step Functions endpoint.
type Server struct {
	URL string

	mu       sync.Mutex
	requests []Request
	execs    map[string]*Execution // by execution ARN
	order    []string
	failWith map[string]string // error type to return, by execution name ("*": all)
}

// Start serves the fake on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{execs: map[string]*Execution{}, failWith: map[string]string{}}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Client returns an SDK client for the server with static credentials in
// region, no retries.
func (s *Server) Client(region string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSFNTEST", "sfntest", ""),
		RetryMaxAttempts: 1,
	})
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Executions returns the executions started so far, in start order.
func (s *Server) Executions() []Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Execution, 0, len(s.order))
	for _, arn := range s.order {
		out = append(out, *s.execs[arn])
	}
	return out
}

// CloseAll marks every execution closed (succeeded or failed).
func (s *Server) CloseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.execs {
		e.Closed = true
	}
}

// Fail makes StartExecution of name ("*" for every name) fail with the
// error type errType (e.g. "StateMachineDoesNotExist",
// "AccessDeniedException").
func (s *Server) Fail(name, errType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith[name] = errType
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{
		Method:      r.Method,
		Target:      r.Header.Get("X-Amz-Target"),
		ContentType: r.Header.Get("Content-Type"),
		Authorized:  strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "),
	}
	var params struct {
		StateMachineARN string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
	}
	err := json.Unmarshal(body, &params)
	req.StateMachineARN, req.Name, req.Input = params.StateMachineARN, params.Name, params.Input
	s.record(req)
	if err != nil {
		writeError(w, "SerializationException", "body is not JSON: "+err.Error())
		return
	}
	switch {
	case r.Method != http.MethodPost:
		writeError(w, "UnknownOperationException", "method "+r.Method)
	case req.ContentType != "application/x-amz-json-1.0":
		writeError(w, "UnknownOperationException", "content type "+req.ContentType)
	case req.Target != "AWSStepFunctions.StartExecution":
		writeError(w, "UnknownOperationException", "target "+req.Target)
	default:
		s.startExecution(w, req)
	}
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

func (s *Server) startExecution(w http.ResponseWriter, req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.failWith[req.Name]; t != "" {
		writeError(w, t, "injected failure")
		return
	}
	if t := s.failWith["*"]; t != "" {
		writeError(w, t, "injected failure")
		return
	}
	parts := strings.Split(req.StateMachineARN, ":")
	if len(parts) != 7 || parts[5] != "stateMachine" {
		writeError(w, "InvalidArn", "Invalid Arn: '"+req.StateMachineARN+"'")
		return
	}
	if req.Name == "" || len(req.Name) > 80 {
		writeError(w, "InvalidName", "Invalid Name: '"+req.Name+"'")
		return
	}
	arn := strings.Join([]string{"arn", parts[1], "states", parts[3], parts[4], "execution", parts[6], req.Name}, ":")
	if e, ok := s.execs[arn]; ok {
		if e.Closed || e.Input != req.Input {
			writeError(w, "ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
			return
		}
	} else {
		s.execs[arn] = &Execution{ARN: arn, StateMachineARN: req.StateMachineARN, Name: req.Name, Input: req.Input}
		s.order = append(s.order, arn)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	fmt.Fprintf(w, `{"executionArn":%q,"startDate":%d}`, arn, time.Now().Unix())
}

func writeError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#" + typ, "message": msg})
	w.Write(b)
}
