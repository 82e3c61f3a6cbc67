// hardway-image writes a single-layer container image as a docker-archive tarball (the format that
// `ctr images import`, `docker load` and `crane validate --tarball` read) from a directory on disk, with no
// registry and no daemon. The output depends only on its inputs: files are stored in name order, owned by
// 0:0, with one fixed modification time, and the image's creation time is the one given.
//
//	hardway-image -root DIR -ref REF -out FILE -created RFC3339 [-platform linux/amd64]
//	              [-entrypoint JSON] [-cmd JSON] [-env K=V]... [-user U] [-workdir W] [-label K=V]...
//	              [-expose PORT/PROTO]... [-net-bind-service PATH]...
//
// -net-bind-service gives a file the capability to bind ports below 1024 (as `setcap cap_net_bind_service=+ep`
// does), for images that run as a non-root user and listen on :53.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		root, ref, out, created, platform, entrypoint, cmd, user, workdir string
		env, labels, expose, netBind                                      list
	)
	flag.StringVar(&root, "root", "", "directory whose contents become the image's file system")
	flag.StringVar(&ref, "ref", "", "image reference written into the archive (registry/repository:tag)")
	flag.StringVar(&out, "out", "", "archive to write")
	flag.StringVar(&created, "created", "", "creation time (RFC 3339), also the mtime of every file")
	flag.StringVar(&platform, "platform", "linux/amd64", "os/arch of the image")
	flag.StringVar(&entrypoint, "entrypoint", "", `entrypoint as a JSON array, e.g. ["/pause"]`)
	flag.StringVar(&cmd, "cmd", "", "cmd as a JSON array")
	flag.StringVar(&user, "user", "", "user (uid:gid)")
	flag.StringVar(&workdir, "workdir", "", "working directory")
	flag.Var(&env, "env", "environment variable K=V (repeatable)")
	flag.Var(&labels, "label", "label K=V (repeatable)")
	flag.Var(&expose, "expose", "exposed port, e.g. 53/udp (repeatable)")
	flag.Var(&netBind, "net-bind-service", "path inside the image given cap_net_bind_service=+ep (repeatable)")
	flag.Parse()
	if root == "" || ref == "" || out == "" || created == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: hardway-image -root DIR -ref REF -out FILE -created RFC3339 [options]; -h lists them")
		os.Exit(2)
	}
	if err := run(root, ref, out, created, platform, entrypoint, cmd, user, workdir, env, labels, expose, netBind); err != nil {
		fmt.Fprintln(os.Stderr, "hardway-image:", err)
		os.Exit(1)
	}
}

func run(root, ref, out, created, platform, entrypoint, cmd, user, workdir string, env, labels, expose, netBind list) error {
	when, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return fmt.Errorf("-created: %w", err)
	}
	when = when.UTC()
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-ref: %w", err)
	}
	osName, arch, ok := strings.Cut(platform, "/")
	if !ok {
		return fmt.Errorf("-platform %q: want os/arch", platform)
	}
	caps := map[string]bool{}
	for _, p := range netBind {
		caps[strings.TrimPrefix(p, "/")] = true
	}

	layerTar, err := tarDir(root, when, caps)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: when}, CreatedBy: "hardway scripts/build (hardway-image)", Comment: ref},
	})
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = osName, arch
	cfg.Created = v1.Time{Time: when}
	if entrypoint != "" {
		if err := json.Unmarshal([]byte(entrypoint), &cfg.Config.Entrypoint); err != nil {
			return fmt.Errorf("-entrypoint: %w", err)
		}
	}
	if cmd != "" {
		if err := json.Unmarshal([]byte(cmd), &cfg.Config.Cmd); err != nil {
			return fmt.Errorf("-cmd: %w", err)
		}
	}
	cfg.Config.Env = env
	cfg.Config.User = user
	cfg.Config.WorkingDir = workdir
	if len(labels) > 0 {
		cfg.Config.Labels = map[string]string{}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			cfg.Config.Labels[k] = v
		}
	}
	if len(expose) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range expose {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}

	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// tarDir returns an uncompressed tar of root's contents: entries sorted by name, owner 0:0, every mtime `when`.
func tarDir(root string, when time.Time, caps map[string]bool) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		info, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return nil, err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		hdr.Name = rel
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = when, time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if caps[rel] {
			// struct vfs_cap_data, revision 2: effective flag; permitted = CAP_NET_BIND_SERVICE (bit 10).
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string([]byte{
				0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			})}
			delete(caps, rel)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for p := range caps {
		return nil, fmt.Errorf("-net-bind-service %s: no such file in -root", p)
	}
	return buf.Bytes(), nil
}
