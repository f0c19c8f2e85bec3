// dockerfile-lint runs BuildKit's own Dockerfile checks (what `docker build --check` reports: the
// parser, every stage converted, and the linter's rules) on a Dockerfile, with no Docker engine and
// no network: base images are answered by an offline resolver with an empty image config, so the
// checks that need the image's contents (its platform, its user) are not made. No Docker engine runs
// where the tests run; test/unit/docker-compose.test.ts drives it.
//
//	dockerfile-lint FILE
//
// Prints each warning as `Rule: detail (line N)` and exits 1 on any warning or error; 0 when clean.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

// offline answers every base image with an empty config: nothing is fetched.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","config":{}}`)
	return ref, digest.FromBytes(config), config, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-lint FILE")
		os.Exit(2)
	}
	dt, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	src := llb.Local("dockerfile")
	def, err := src.Marshal(ctx)
	if err != nil {
		fail(err)
	}
	sourceMap := llb.NewSourceMap(&src, "Dockerfile", "Dockerfile", dt)
	sourceMap.Definition = def
	results, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{},
		SourceMap:    sourceMap,
		MetaResolver: offline{},
	})
	if err != nil {
		fail(err)
	}
	problems := 0
	if results.Error != nil {
		fmt.Println("error:", results.Error.Message)
		problems++
	}
	for _, warning := range results.Warnings {
		line := int32(0)
		if len(warning.Location.Ranges) > 0 {
			line = warning.Location.Ranges[0].Start.Line
		}
		fmt.Printf("%s: %s (line %d)\n", warning.RuleName, warning.Detail, line)
		problems++
	}
	if problems > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
