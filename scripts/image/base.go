package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The image's user, its store directory and the listeners it serves on. The
// numbers are the ones distroless and Chainguard images use for "nonroot", so a
// Kubernetes runAsUser or a host directory prepared for those works unchanged.
const (
	nonrootUID = 65532
	dataDir    = "/data"
	publicPort = "8080"
	adminPort  = "8081"
)

// baseEnv is purse serve's configuration inside a container: the store on the
// volume and both listeners on every interface of the container's own network
// namespace. The admin listener's default, 127.0.0.1:8081, is the container's
// loopback, which nothing outside the container can reach; whether the admin API
// is reachable from outside is decided by docker run's -p, which the README binds
// to the host's loopback.
var baseEnv = []string{
	"PURSE_DB=" + dataDir + "/purse.db",
	"PURSE_LISTEN=:" + publicPort,
	"PURSE_ADMIN_LISTEN=:" + adminPort,
}

// platforms are the ones the base is written for: its files are the same for
// each, only the config's architecture differs.
var platforms = []platform{{"linux", "amd64"}, {"linux", "arm64"}}

type platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
}

// OCI media types, from the image spec.
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

type descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *platform `json:"platform,omitempty"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        *descriptor  `json:"config,omitempty"`
	Layers        []descriptor `json:"layers,omitempty"`
	Manifests     []descriptor `json:"manifests,omitempty"`
}

// imageConfig is the part of the OCI image config the base sets; ko copies it
// into purse's image and sets the entrypoint (ko always clears Cmd), which the
// base leaves empty.
type imageConfig struct {
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	User         string              `json:"User"`
	Env          []string            `json:"Env"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Labels       map[string]string   `json:"Labels,omitempty"`
}

type configFile struct {
	Created      time.Time   `json:"created"`
	Architecture string      `json:"architecture"`
	OS           string      `json:"os"`
	Config       imageConfig `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []history `json:"history"`
}

type history struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// epoch is every timestamp of the base, so the same inputs give the same digest.
var epoch = time.Unix(0, 0).UTC()

// baseFile is one entry of the base's only layer.
type baseFile struct {
	name string
	mode int64
	uid  int
	body []byte // nil for a directory
}

// baseFiles is the whole file system around purse's static binary: the users
// (so the image runs as a named non-root user and tools that look the uid up
// find it), a writable /tmp, the store directory owned by that user with mode
// 0700 (purse warns about a store others can read), and the CA bundle when one
// is given, which a PostgreSQL URL with sslmode=verify-full and the CLI's
// https:// admin URLs need.
func baseFiles(caBundle []byte) []baseFile {
	files := []baseFile{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonrootUID, nonrootUID))},
		{name: "etc/group", mode: 0o644, body: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonrootUID))},
		{name: "etc/nsswitch.conf", mode: 0o644, body: []byte("hosts: files dns\n")},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonrootUID},
		{name: "tmp/", mode: 0o1777},
		{name: dataDir[1:] + "/", mode: 0o700, uid: nonrootUID},
	}
	if caBundle != nil {
		files = append(files,
			baseFile{name: "etc/ssl/", mode: 0o755},
			baseFile{name: "etc/ssl/certs/", mode: 0o755},
			baseFile{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: caBundle})
	}
	return files
}

// layerTar is the layer's uncompressed tar.
func layerTar(files []baseFile) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: epoch, Format: tar.FormatPAX}
		if f.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

// layout is an OCI image layout directory being written.
type layout struct {
	dir  string
	refs []descriptor // index.json's manifests
}

// blob stores b under its digest and describes it.
func (l *layout) blob(mediaType string, b []byte) (descriptor, error) {
	sum := sha256.Sum256(b)
	d := descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b))}
	dir := filepath.Join(l.dir, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return d, err
	}
	return d, os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])), b, 0o644)
}

func (l *layout) json(mediaType string, v any) (descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return descriptor{}, err
	}
	return l.blob(mediaType, b)
}

// writeBase writes purse's base image, an index of one image per platform, as
// an OCI image layout in dir and returns the index's digest. ko finds it there
// when dir is $KOCACHE/img and the base is named by that digest: ko keeps the
// base images it pulls in that layout and looks an image named by digest up
// there before it asks a registry (ko v0.19.1, pkg/commands/cache.go), so no
// registry is asked at all.
func writeBase(dir string, caBundle []byte) (string, error) {
	l := &layout{dir: dir}
	raw, err := layerTar(baseFiles(caBundle))
	if err != nil {
		return "", err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level: no error
	zw.Write(raw)                                           // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return "", err
	}
	layer, err := l.blob(mediaLayer, gz.Bytes())
	if err != nil {
		return "", err
	}
	diffID := sha256.Sum256(raw)
	var images []descriptor
	for _, p := range platforms {
		img, err := l.image(p, layer, "sha256:"+hex.EncodeToString(diffID[:]))
		if err != nil {
			return "", err
		}
		images = append(images, img)
	}
	index, err := l.json(mediaIndex, manifest{SchemaVersion: 2, MediaType: mediaIndex, Manifests: images})
	if err != nil {
		return "", err
	}
	l.refs = append(l.refs, index)
	return index.Digest, l.close()
}

// image writes one platform's config and manifest, and lists the manifest in
// index.json too: ko looks each platform's image up in the cache by its digest.
func (l *layout) image(p platform, layer descriptor, diffID string) (descriptor, error) {
	cfg := configFile{Created: epoch, Architecture: p.Architecture, OS: p.OS, Config: imageConfig{
		User:         fmt.Sprintf("%d:%d", nonrootUID, nonrootUID),
		Env:          baseEnv,
		ExposedPorts: map[string]struct{}{publicPort + "/tcp": {}, adminPort + "/tcp": {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		WorkingDir:   dataDir,
		Labels:       map[string]string{"org.opencontainers.image.source": "https://github.com/purse-ledger/purse"},
	}}
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = []string{diffID}
	cfg.History = []history{{Created: epoch, CreatedBy: "purse scripts/image: users, /tmp, /data, CA certificates"}}
	c, err := l.json(mediaConfig, cfg)
	if err != nil {
		return descriptor{}, err
	}
	m, err := l.json(mediaManifest, manifest{SchemaVersion: 2, MediaType: mediaManifest, Config: &c, Layers: []descriptor{layer}})
	if err != nil {
		return descriptor{}, err
	}
	l.refs = append(l.refs, m)
	m.Platform = &p
	return m, nil
}

// close writes the layout's marker and index.json.
func (l *layout) close() error {
	if err := os.WriteFile(filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	b, err := json.Marshal(manifest{SchemaVersion: 2, MediaType: mediaIndex, Manifests: l.refs})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.dir, "index.json"), b, 0o644)
}
