package s3

import (
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	for _, tt := range []struct {
		bucket string
		want   string // a part of the error, or "" for none
	}{
		{"tributary", ""},
		{"it-testcrash-1.data", ""},
		{"", "is required"},
		{"bad_Bucket!", "not a valid bucket name"},
		{"ab", "not a valid bucket name"},
		{"UPPER", "not a valid bucket name"},
	} {
		errs := validate(map[string]string{KeyBucket: tt.bucket})
		var got string
		for _, e := range errs {
			if e.Key == KeyBucket {
				got = e.Message
			}
		}
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("bucket %q: error %q, want one containing %q", tt.bucket, got, tt.want)
		}
	}
}

// A bad store.url is reported without its password.
func TestValidateStoreURL(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://minio:9000", ""},
		{"ftp://minio:pw-1234@minio:9000", `"ftp://minio:xxxxx@minio:9000" is not an http(s) URL`},
		{"http://minio:pw-1234@minio:port\x7f", "is not a URL"},
	} {
		var got string
		for _, e := range validate(map[string]string{KeyBucket: "tributary", KeyStoreURL: tt.url}) {
			got += e.Message
		}
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) ||
			strings.Contains(got, "pw-1234") {
			t.Errorf("store.url %q: error %q, want one containing %q", tt.url, got, tt.want)
		}
	}
}
