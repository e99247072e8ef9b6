// Package awsio adapts Amazon S3 (aws-sdk-go-v2) to the project's small
// interfaces: a source object read by byte ranges, all pinned to one object
// version by If-Match on its ETag, and a staging Store. It is the only
// shared package besides the Lambda handlers that imports the AWS SDK.
package awsio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/staging"
)

// S3API is the part of *s3.Client this package uses.
type S3API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

// Object is one S3 object version, read by ranges. It never writes to or
// deletes the object.
type Object struct {
	Client    S3API
	Bucket    string
	Key       string
	ETag      string // pins every ranged GET to one version (If-Match)
	VersionID string
	size      int64
}

// URI is s3://bucket/key.
func (o *Object) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

// Head reads the object's size and ETag (and keeps a caller-given ETag:
// a mismatch means the object was overwritten since the event).
func Head(ctx context.Context, c S3API, bucket, key, etag, versionID string) (*Object, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if etag != "" {
		in.IfMatch = aws.String(quoteETag(etag))
	}
	out, err := c.HeadObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	o := &Object{Client: c, Bucket: bucket, Key: key, ETag: aws.ToString(out.ETag), VersionID: versionID, size: aws.ToInt64(out.ContentLength)}
	return o, nil
}

// Size is the object's length in bytes.
func (o *Object) Size() int64 { return o.size }

// OpenRange GETs bytes [start, end) of the pinned version.
func (o *Object) OpenRange(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end > o.size || start > end {
		return nil, fmt.Errorf("read %s: range [%d, %d) outside object of %d bytes", o.URI(), start, end, o.size)
	}
	if start == end {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{
		Bucket: aws.String(o.Bucket),
		Key:    aws.String(o.Key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", start, end-1)),
	}
	if o.ETag != "" {
		in.IfMatch = aws.String(quoteETag(o.ETag))
	}
	if o.VersionID != "" {
		in.VersionId = aws.String(o.VersionID)
	}
	out, err := o.Client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s bytes %d-%d: %w", o.URI(), start, end-1, err)
	}
	return out.Body, nil
}

func quoteETag(e string) string {
	if strings.HasPrefix(e, `"`) || strings.HasPrefix(e, "W/") {
		return e
	}
	return `"` + e + `"`
}

// ParseURI splits s3://bucket/key.
func ParseURI(s string) (bucket, key string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || len(u.Path) < 2 {
		return "", "", fmt.Errorf("%q is not an s3://bucket/key URI", s)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}

// IsPreconditionFailed reports whether err says the object changed under
// its ETag (HTTP 412): the object was overwritten during the execution.
func IsPreconditionFailed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "412")
}

// IsNotFound reports whether err is a missing bucket or key.
func IsNotFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchBucket")
}

// Staging is a staging.Store in an S3 bucket under a prefix.
type Staging struct {
	Client S3API
	Bucket string
	Prefix string
	// PartSize is the part size of uploads from non-seekable readers
	// (0: DefaultPartSize; at least 5 MiB on S3).
	PartSize int
}

var _ staging.Store = (*Staging)(nil)

func (s *Staging) key(k string) string { return s.Prefix + k }

// DefaultPartSize is the part size of a staging upload: the memory one
// Put holds, whatever the object's size (S3 takes parts of 5 MiB to
// 5 GiB, the last one smaller; at most 10,000 parts, so 78 GiB).
const DefaultPartSize = 8 << 20

// MultipartAPI is what Put needs beyond S3API for objects above one part.
type MultipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Put uploads the object. A seekable body goes up in one PutObject; any
// other is read one part at a time (PartSize, DefaultPartSize when 0): a
// body shorter than one part is one PutObject, any other a multipart
// upload, which S3 shows only once it is complete (and aborts on error),
// so memory stays at one part per Put.
func (s *Staging) Put(ctx context.Context, key string, r io.Reader) error {
	k := s.key(key)
	if rs, ok := r.(io.ReadSeeker); ok {
		return s.putObject(ctx, k, rs)
	}
	size := s.PartSize
	if size <= 0 {
		size = DefaultPartSize
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return s.putObject(ctx, k, bytes.NewReader(buf[:n]))
	}
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, k, err)
	}
	mp, ok := s.Client.(MultipartAPI)
	if !ok {
		rest, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, k, err)
		}
		return s.putObject(ctx, k, bytes.NewReader(append(buf, rest...)))
	}
	up, err := mp.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: aws.String(k)})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, k, err)
	}
	if err := s.uploadParts(ctx, mp, k, up.UploadId, r, buf); err != nil {
		// The parts stored so far are billed until aborted.
		mp.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: aws.String(k), UploadId: up.UploadId})
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, k, err)
	}
	return nil
}

// uploadParts uploads buf (a full first part) and the rest of r.
func (s *Staging) uploadParts(ctx context.Context, mp MultipartAPI, key string, id *string, r io.Reader, buf []byte) error {
	var parts []types.CompletedPart
	n, last := len(buf), false
	for num := int32(1); ; num++ {
		if num > 10_000 {
			return errors.New("more than 10,000 parts")
		}
		out, err := mp.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), UploadId: id,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n])})
		if err != nil {
			return fmt.Errorf("part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num),
			ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C, ChecksumCRC64NVME: out.ChecksumCRC64NVME,
			ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256})
		if last {
			break
		}
		n, err = io.ReadFull(r, buf)
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			last = true
		} else if err != nil {
			return err
		}
	}
	_, err := mp.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func (s *Staging) putObject(ctx context.Context, key string, body io.ReadSeeker) error {
	if _, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: body}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Open downloads the object.
func (s *Staging) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.key(key))})
	if err != nil {
		if IsNotFound(err) {
			return nil, fmt.Errorf("open s3://%s/%s: %w", s.Bucket, s.key(key), staging.ErrNotFound)
		}
		return nil, fmt.Errorf("open s3://%s/%s: %w", s.Bucket, s.key(key), err)
	}
	return &countedBody{ReadCloser: out.Body, uri: "s3://" + s.Bucket + "/" + s.key(key), want: aws.ToInt64(out.ContentLength)}, nil
}

// ShortBodyError is a GET whose body ended before its Content-Length: the
// connection dropped. It is not io.ErrUnexpectedEOF, so a reader of the
// body does not take it for a truncated object, and a retry reads it
// again.
type ShortBodyError struct {
	URI       string
	Got, Want int64
	Err       error
}

func (e *ShortBodyError) Error() string {
	return fmt.Sprintf("read %s: the body ended after %d of %d bytes (%v)", e.URI, e.Got, e.Want, e.Err)
}

// countedBody turns an early end of a GET's body into a ShortBodyError.
type countedBody struct {
	io.ReadCloser
	uri       string
	got, want int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	if err != nil && b.want > 0 && b.got < b.want && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
		err = &ShortBodyError{URI: b.uri, Got: b.got, Want: b.want, Err: err}
	}
	return n, err
}

// Delete removes the staging object (never a source object: keys are
// always under the staging prefix).
func (s *Staging) Delete(ctx context.Context, key string) error {
	_, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.key(key))})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete s3://%s/%s: %w", s.Bucket, s.key(key), err)
	}
	return nil
}

// List returns staging keys under prefix (relative to the staging prefix).
func (s *Staging) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.key(prefix))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.key(prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.Prefix))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Known returns an Object whose size and ETag are already known (from the
// plan), without a HEAD request.
func Known(c S3API, bucket, key, etag, versionID string, size int64) *Object {
	return &Object{Client: c, Bucket: bucket, Key: key, ETag: etag, VersionID: versionID, size: size}
}
