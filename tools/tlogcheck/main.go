// tlogcheck verifies a TrustSeal log as an outside party would, with the Go reference
// packages golang.org/x/mod/sumdb/note and sumdb/tlog: the checkpoint's signature, its
// root rebuilt from the C2SP tiles, every entry bundle against its leaf hashes, inclusion
// proofs made from the tiles, and, given them, the service's own inclusion and
// consistency proofs.
//
//	tlogcheck -tiles DIR|URL -vkey VKEY [-proofs proofs.json]
//
// proofs.json: {"old_checkpoint": "…", "consistency": ["base64", …],
// "inclusion": [{"index": 0, "leaf": "base64", "proof": ["base64", …]}, …]}.
// Prints one JSON line of what it checked; exit 0 when everything holds, 1 otherwise.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type source struct{ base string }

func (s source) read(path string) ([]byte, error) {
	if strings.HasPrefix(s.base, "http://") || strings.HasPrefix(s.base, "https://") {
		resp, err := http.Get(strings.TrimRight(s.base, "/") + "/" + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		return io.ReadAll(resp.Body)
	}
	return os.ReadFile(filepath.Join(s.base, filepath.FromSlash(path)))
}

// c2spPath is the C2SP tlog-tiles path of a tile: Go's path without the height element.
func c2spPath(t tlog.Tile) string {
	return strings.Replace(t.Path(), fmt.Sprintf("tile/%d/", height), "tile/", 1)
}

type tiles struct{ src source }

func (r tiles) Height() int { return height }
func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		data, err := r.src.read(c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}
func (r tiles) SaveTiles([]tlog.Tile, [][]byte) {}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func openCheckpoint(text []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return checkpoint{}, fmt.Errorf("checkpoint body has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint size: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("checkpoint root is not a base64 hash")
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{lines[0], tlog.Tree{N: size, Hash: root}}, nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("not a base64 hash: %q", s)
		}
		copy(out[i][:], raw)
	}
	return out, nil
}

type proofs struct {
	OldCheckpoint string   `json:"old_checkpoint"`
	Consistency   []string `json:"consistency"`
	Inclusion     []struct {
		Index int64    `json:"index"`
		Leaf  string   `json:"leaf"`
		Proof []string `json:"proof"`
	} `json:"inclusion"`
}

func run() (map[string]any, error) {
	tilesArg := flag.String("tiles", "", "directory or URL of the tiles (its checkpoint too)")
	vkey := flag.String("vkey", "", "the log's note verifier key")
	proofsPath := flag.String("proofs", "", "the service's proofs to check (JSON)")
	flag.Parse()
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %v", err)
	}
	src := source{*tilesArg}
	text, err := src.read("checkpoint")
	if err != nil {
		return nil, err
	}
	cp, err := openCheckpoint(text, verifier)
	if err != nil {
		return nil, err
	}
	reader := tlog.TileHashReader(cp.tree, tiles{src})
	root, err := tlog.TreeHash(cp.tree.N, reader)
	if err != nil {
		return nil, fmt.Errorf("tree hash from tiles: %v", err)
	}
	if root != cp.tree.Hash {
		return nil, fmt.Errorf("tiles give root %v, the checkpoint says %v", root, cp.tree.Hash)
	}
	// every entry bundle against the leaf hashes, and an inclusion proof per bundle
	entries, proved := int64(0), 0
	for n := int64(0); n*256 < cp.tree.N; n++ {
		width := cp.tree.N - n*256
		if width > 256 {
			width = 256
		}
		t := tlog.Tile{H: height, L: -1, N: n, W: int(width)}
		path := strings.Replace(c2spPath(t), "tile/data/", "tile/entries/", 1)
		data, err := src.read(path)
		if err != nil {
			return nil, err
		}
		leaves := make([]int64, width)
		for k := range leaves {
			leaves[k] = tlog.StoredHashIndex(0, n*256+int64(k))
		}
		leafHashes, err := reader.ReadHashes(leaves)
		if err != nil {
			return nil, fmt.Errorf("leaf hashes: %v", err)
		}
		for k := int64(0); k < width; k++ {
			if len(data) < 2 {
				return nil, fmt.Errorf("%s cut short", path)
			}
			size := int(binary.BigEndian.Uint16(data[:2]))
			if len(data) < 2+size {
				return nil, fmt.Errorf("%s cut short", path)
			}
			if tlog.RecordHash(data[2:2+size]) != leafHashes[k] {
				return nil, fmt.Errorf("entry %d does not hash to its leaf", n*256+k)
			}
			data = data[2+size:]
			entries++
		}
		if len(data) != 0 {
			return nil, fmt.Errorf("%s has bytes after its entries", path)
		}
		index := n*256 + width - 1
		p, err := tlog.ProveRecord(cp.tree.N, index, reader)
		if err != nil {
			return nil, err
		}
		if err := tlog.CheckRecord(p, cp.tree.N, root, index, leafHashes[width-1]); err != nil {
			return nil, fmt.Errorf("inclusion of %d from tiles: %v", index, err)
		}
		proved++
	}
	result := map[string]any{
		"origin": cp.origin, "size": cp.tree.N, "root": cp.tree.Hash.String(),
		"entries_checked": entries, "tile_inclusion_proofs": proved,
	}
	if *proofsPath == "" {
		return result, nil
	}
	raw, err := os.ReadFile(*proofsPath)
	if err != nil {
		return nil, err
	}
	var given proofs
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&given); err != nil {
		return nil, fmt.Errorf("proofs: %v", err)
	}
	for _, inc := range given.Inclusion {
		leaf, err := hashes([]string{inc.Leaf})
		if err != nil {
			return nil, err
		}
		path, err := hashes(inc.Proof)
		if err != nil {
			return nil, err
		}
		if err := tlog.CheckRecord(path, cp.tree.N, root, inc.Index, leaf[0]); err != nil {
			return nil, fmt.Errorf("service inclusion proof of %d: %v", inc.Index, err)
		}
	}
	result["service_inclusion_proofs"] = len(given.Inclusion)
	if given.OldCheckpoint != "" {
		old, err := openCheckpoint([]byte(given.OldCheckpoint), verifier)
		if err != nil {
			return nil, fmt.Errorf("old checkpoint: %v", err)
		}
		path, err := hashes(given.Consistency)
		if err != nil {
			return nil, err
		}
		if err := tlog.CheckTree(path, cp.tree.N, root, old.tree.N, old.tree.Hash); err != nil {
			return nil, fmt.Errorf("consistency %d -> %d: %v", old.tree.N, cp.tree.N, err)
		}
		// and the tiles prove the same
		tp, err := tlog.ProveTree(cp.tree.N, old.tree.N, reader)
		if err != nil {
			return nil, err
		}
		if err := tlog.CheckTree(tp, cp.tree.N, root, old.tree.N, old.tree.Hash); err != nil {
			return nil, fmt.Errorf("consistency from tiles: %v", err)
		}
		result["consistency_from"] = old.tree.N
	}
	return result, nil
}

func main() {
	result, err := run()
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(map[string]any{"ok": false, "error": err.Error()})
		os.Exit(1)
	}
	result["ok"] = true
	json.NewEncoder(os.Stdout).Encode(result)
}
