package reprocess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of *s3.Client the Lister uses.
type S3API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

// Object is one object version to reprocess.
type Object struct {
	Bucket string
	Key    string
	// ETag without quotes.
	ETag string
	// VersionID is set only for a HEAD on a versioned bucket (listings do
	// not carry it).
	VersionID    string
	Size         int64
	LastModified time.Time
}

// URI is s3://bucket/key.
func (o Object) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

// ErrTooMany means a selection holds more objects than Lister.Max.
var ErrTooMany = errors.New("too many objects")

// ErrNotFound means an object named explicitly does not exist.
var ErrNotFound = errors.New("no such object")

// Stats counts what a Lister saw.
type Stats struct {
	// Partitions is the number of date/hour folders listed.
	Partitions int
	// Listed is every object listed; Selected those kept.
	Listed, Selected int
	// SkippedSuffix had another suffix; SkippedWindow a file-name time
	// outside the window; SkippedNoTime no file-name time in a folder only
	// partly inside the window.
	SkippedSuffix, SkippedWindow, SkippedNoTime int
}

// Lister selects objects to reprocess: one named object, every object
// under a prefix, or every object of a time window in a flow log's
// date folders. It is not safe for concurrent use.
type Lister struct {
	Client S3API
	// Suffix keeps only keys ending in it in prefix and window selections
	// ("" keeps all). A named object is always kept.
	Suffix string
	// Max caps the objects selected over all calls (0: no cap); past it
	// the call fails with ErrTooMany and the caller should start nothing.
	Max   int
	Stats Stats
}

func (l *Lister) keep(o Object) error {
	l.Stats.Selected++
	if l.Max > 0 && l.Stats.Selected > l.Max {
		return fmt.Errorf("%w: more than %d objects selected (raise --max or narrow the selection)", ErrTooMany, l.Max)
	}
	return nil
}

// Object HEADs one object.
func (l *Lister) Object(ctx context.Context, bucket, key string) (Object, error) {
	out, err := l.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return Object{}, fmt.Errorf("head s3://%s/%s: %w (end a prefix with /)", bucket, key, ErrNotFound)
		}
		return Object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	l.Stats.Listed++
	o := Object{
		Bucket:       bucket,
		Key:          key,
		ETag:         unquote(aws.ToString(out.ETag)),
		VersionID:    aws.ToString(out.VersionId),
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
	}
	if o.VersionID == "null" { // an unversioned object in a versioning-suspended bucket
		o.VersionID = ""
	}
	return o, l.keep(o)
}

// Prefix lists every object under prefix (in key order) that ends in
// Suffix.
func (l *Lister) Prefix(ctx context.Context, bucket, prefix string) ([]Object, error) {
	var objs []Object
	err := l.list(ctx, bucket, prefix, func(o Object) error {
		if !strings.HasSuffix(o.Key, l.Suffix) {
			l.Stats.SkippedSuffix++
			return nil
		}
		objs = append(objs, o)
		return l.keep(o)
	})
	return objs, err
}

// Location names the flow logs a window applies to.
type Location struct {
	// Prefix is the flow log's S3 prefix in the bucket ("" for none).
	Prefix string
	Layout Layout
	// Accounts and Regions restrict the selection; empty means every
	// account (12-digit folder) under <prefix>AWSLogs/, or every region
	// folder under each account, found by listing.
	Accounts []string
	Regions  []string
}

// Window lists the objects of w: it expands w into the date (or hour)
// folders of every account and region of loc, lists each, and keeps the
// keys ending in Suffix. In a folder that lies only partly inside w (a
// window that does not start or end on a folder boundary) it keeps only
// objects whose file-name timestamp (_YYYYMMDDTHHmmZ_) is inside w.
func (l *Lister) Window(ctx context.Context, bucket string, loc Location, w Window) ([]Object, error) {
	if _, err := ParseLayout(string(loc.Layout)); err != nil {
		return nil, err
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	accounts := loc.Accounts
	if len(accounts) == 0 {
		found, err := l.folders(ctx, bucket, LogsRoot(loc.Prefix), loc.Layout.accountSegment)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no account folders under s3://%s/%s for layout %s", bucket, LogsRoot(loc.Prefix), loc.Layout)
		}
		accounts = found
	}
	var objs []Object
	for _, acct := range accounts {
		regions := loc.Regions
		if len(regions) == 0 {
			root := loc.Layout.AccountRoot(loc.Prefix, acct)
			found, err := l.folders(ctx, bucket, root, loc.Layout.regionSegment)
			if err != nil {
				return nil, err
			}
			regions = found
		}
		for _, region := range regions {
			parts, err := loc.Layout.Partitions(loc.Layout.Base(loc.Prefix, acct, region), w)
			if err != nil {
				return nil, err
			}
			for _, p := range parts {
				l.Stats.Partitions++
				whole := p.Within(w)
				err := l.list(ctx, bucket, p.Prefix, func(o Object) error {
					if !strings.HasSuffix(o.Key, l.Suffix) {
						l.Stats.SkippedSuffix++
						return nil
					}
					if !whole {
						t, ok := FileTime(o.Key)
						if !ok {
							l.Stats.SkippedNoTime++
							return nil
						}
						if !w.Contains(t) {
							l.Stats.SkippedWindow++
							return nil
						}
					}
					objs = append(objs, o)
					return l.keep(o)
				})
				if err != nil {
					return objs, err
				}
			}
		}
	}
	return objs, nil
}

// list calls fn for every object under prefix, in key order.
func (l *Lister) list(ctx context.Context, bucket, prefix string, fn func(Object) error) error {
	p := s3.NewListObjectsV2Paginator(l.Client, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, it := range page.Contents {
			l.Stats.Listed++
			o := Object{
				Bucket:       bucket,
				Key:          aws.ToString(it.Key),
				ETag:         unquote(aws.ToString(it.ETag)),
				Size:         aws.ToInt64(it.Size),
				LastModified: aws.ToTime(it.LastModified),
			}
			if strings.HasSuffix(o.Key, "/") && o.Size == 0 {
				continue // a console-created "folder"
			}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// folders lists the immediate sub-folders of prefix and returns those
// that segment maps to a non-empty name, sorted.
func (l *Lister) folders(ctx context.Context, bucket, prefix string, segment func(string) string) ([]string, error) {
	p := s3.NewListObjectsV2Paginator(l.Client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(bucket),
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
	})
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list folders of s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			seg := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name := segment(seg); name != "" {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nk) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}
