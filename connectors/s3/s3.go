// Package s3 is the S3 sink: Amazon S3 and S3-compatible stores such as
// MinIO, through minio-go. Formats, partitioners, rotation and the
// exactly-once commit protocol come from package storage; this package adds
// the Store, whose create-only writes are conditional PUTs
// (If-None-Match: *), and the connection keys, spelled as Confluent's S3 sink
// spells them.
//
// # Limitations
//
//   - The store must support conditional writes. AWS S3 (since 2024) and
//     MinIO do; a store that ignores If-None-Match would let a zombie task
//     overwrite an object with identical bytes only, but is not supported.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/storage"
)

// Config keys of the S3 sink.
const (
	KeyBucket    = "s3.bucket.name"
	KeyRegion    = "s3.region"
	KeyPartSize  = "s3.part.size"
	KeyStoreURL  = "store.url"
	KeyAccessKey = "aws.access.key.id"
	KeySecretKey = "aws.secret.access.key"
	KeyPathStyle = "s3.path.style.access.enabled"

	defaultPartSize = 25 << 20 // Confluent's default
	minPartSize     = 5 << 20  // S3's minimum
)

const groupS3 = "S3"

// s3Key declares a key of the S3 group.
func s3Key(name string, typ connectors.ConfigType, def string, imp connectors.Importance,
	doc string,
) connectors.ConfigKey {
	return connectors.ConfigKey{Name: name, Type: typ, Default: def, Importance: imp,
		Group: groupS3, Documentation: doc}
}

// keys describes the S3 sink's own keys. The last four are keys of
// Confluent's S3 sink that configs copied from it carry and that need
// nothing here: minio-go picks the addressing style, one storage class
// exists, and the runtime retries within errors.retry.timeout.
var keys = []connectors.ConfigKey{
	{Name: KeyBucket, Type: connectors.TypeString, Required: true,
		Importance: connectors.ImportanceHigh, Group: groupS3,
		Documentation: "Bucket the connector writes to."},
	s3Key(KeyRegion, connectors.TypeString, "", connectors.ImportanceMedium,
		"Region of the bucket; unset asks the store."),
	s3Key(KeyStoreURL, connectors.TypeString, "", connectors.ImportanceHigh,
		"http(s) URL of an S3-compatible store such as MinIO; unset is AWS S3."),
	s3Key(KeyAccessKey, connectors.TypeString, "", connectors.ImportanceHigh,
		"Access key id; unset takes credentials from the AWS environment variables, "+
			"credentials file or instance role."),
	s3Key(KeySecretKey, connectors.TypePassword, "", connectors.ImportanceHigh,
		"Secret access key of aws.access.key.id."),
	s3Key(KeyPartSize, connectors.TypeInt, strconv.Itoa(defaultPartSize),
		connectors.ImportanceLow, "Bytes in each part of a multipart upload, at least 5 MiB."),
	s3Key(KeyPathStyle, connectors.TypeBoolean, "", connectors.ImportanceLow,
		"Accepted for compatibility and ignored: the client picks path-style or "+
			"virtual-hosted-style requests by itself."),
	s3Key("storage.class", connectors.TypeClass, "", connectors.ImportanceLow,
		"Accepted for compatibility and ignored: S3 is the only storage."),
	s3Key("s3.part.retries", connectors.TypeInt, "", connectors.ImportanceLow,
		"Accepted for compatibility and ignored: errors.retry.timeout bounds retries."),
	s3Key("s3.retry.backoff.ms", connectors.TypeLong, "", connectors.ImportanceLow,
		"Accepted for compatibility and ignored: the runtime picks the backoff."),
}

// NewConnector returns the S3 sink connector.
func NewConnector() connectors.SinkConnector {
	return &storage.Connector{Keys: validate, NewStore: OpenStore,
		Def: connectors.ConfigDef{Keys: keys}}
}

func validate(config map[string]string) []connectors.FieldError {
	var errs []connectors.FieldError
	if b := config[KeyBucket]; strings.TrimSpace(b) == "" {
		errs = append(errs, connectors.FieldError{Key: KeyBucket, Message: "is required"})
	} else if err := s3utils.CheckValidBucketNameStrict(b); err != nil {
		errs = append(errs, connectors.FieldError{Key: KeyBucket,
			Message: fmt.Sprintf("%q is not a valid bucket name: %v", b, err)})
	}
	if u := config[KeyStoreURL]; u != "" {
		if _, _, err := endpoint(u); err != nil {
			errs = append(errs, connectors.FieldError{Key: KeyStoreURL, Message: err.Error()})
		}
	}
	if v, ok := config[KeyPartSize]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < minPartSize {
			errs = append(errs, connectors.FieldError{Key: KeyPartSize,
				Message: fmt.Sprintf("%q is not a size of at least %d bytes", v, minPartSize)})
		}
	}
	return errs
}

// endpoint splits store.url into minio-go's host and TLS flag. Its errors
// quote the URL without a password, or not at all when it does not parse.
func endpoint(raw string) (host string, secure bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, errors.New("is not a URL")
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, fmt.Errorf("%q is not an http(s) URL", u.Redacted())
	}
	return u.Host, u.Scheme == "https", nil
}

// OpenStore connects to the store a connector config names.
func OpenStore(ctx context.Context, config map[string]string) (storage.Store, error) {
	host, secure := "s3.amazonaws.com", true
	if u := config[KeyStoreURL]; u != "" {
		var err error
		if host, secure, err = endpoint(u); err != nil {
			return nil, err
		}
	}
	var creds *credentials.Credentials
	if id := config[KeyAccessKey]; id != "" {
		creds = credentials.NewStaticV4(id, config[KeySecretKey], "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	client, err := minio.New(host, &minio.Options{
		Creds:  creds,
		Secure: secure,
		Region: config[KeyRegion],
	})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", host, err)
	}
	partSize := uint64(defaultPartSize)
	if v, err := strconv.Atoi(config[KeyPartSize]); err == nil {
		partSize = uint64(v)
	}
	store := &Store{client: client, bucket: config[KeyBucket], partSize: partSize}
	// A missing bucket is a config mistake, not an outage: say so once,
	// instead of retrying every listing.
	ok, err := client.BucketExists(ctx, store.bucket)
	if err != nil {
		return nil, store.classify("check bucket", "", err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %s does not exist at %s: create it first (%s)",
			store.bucket, host, KeyBucket)
	}
	return store, nil
}

// Store is a storage.Store over one bucket.
type Store struct {
	client   *minio.Client
	bucket   string
	partSize uint64
}

// NewStore returns a Store over bucket through client.
func NewStore(client *minio.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket, partSize: defaultPartSize}
}

// PutIfAbsent implements storage.Store with a conditional PUT. Objects larger
// than the part size go up as a multipart upload with one part in memory at
// a time; the condition applies when the upload completes.
func (s *Store) PutIfAbsent(ctx context.Context, key string, r io.Reader, size int64) error {
	opts := minio.PutObjectOptions{
		PartSize:         s.partSize,
		NumThreads:       1,
		DisableMultipart: size >= 0 && uint64(size) <= s.partSize,
	}
	opts.SetMatchETagExcept("*")
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts); err != nil {
		return s.classify("put", key, err)
	}
	return nil
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.classify("get", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.classify("get", key, err)
	}
	return b, nil
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix, startAfter string) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix: prefix, StartAfter: startAfter, Recursive: true,
	}) {
		if obj.Err != nil {
			return nil, s.classify("list", prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.classify("delete", key, err)
	}
	return nil
}

// String implements storage.Store.
func (s *Store) String() string { return "s3://" + s.bucket }

// classify decides, in one place, which S3 errors are worth retrying. The
// message never carries the response body.
func (s *Store) classify(op, key string, err error) error {
	where := fmt.Sprintf("%s s3://%s/%s", op, s.bucket, key)
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch {
		case resp.StatusCode == http.StatusPreconditionFailed:
			return fmt.Errorf("%s: %w", where, storage.ErrExist)
		case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
			return fmt.Errorf("%s: %w", where, storage.ErrNotExist)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 ||
			resp.Code == "SlowDown" || resp.Code == "RequestTimeout":
			return fmt.Errorf("%s: %w: %s (%d)", where, connectors.ErrRetriable, resp.Code, resp.StatusCode)
		default:
			return fmt.Errorf("%s: %s (%d)", where, resp.Code, resp.StatusCode)
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w: %w", where, connectors.ErrRetriable, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}
