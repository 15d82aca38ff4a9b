// Package deploy holds no code: it is where callctl's deployment files live
// (the Kubernetes manifests under kubernetes/, the guide in README.md) and
// the tests that keep them, the root Dockerfile and docs/licenses.md true
// without a cluster or a Docker engine:
//
//   - manifests_test.go decodes kubernetes/fleet-job.yaml strictly into the
//     Kubernetes API types, parses its containers' arguments with callctl's
//     own command line, and checks that the shard count, the metrics port,
//     the scrape annotations, the Service and the PodMonitor agree;
//   - dockerfile_test.go checks the Dockerfile's apt packages and Go version
//     against scripts/deps.txt, scripts/install-deps.sh and go.mod, and
//     (on Debian bookworm) that the runtime stage's packages hold every
//     shared library a freshly built callctl links;
//   - licenses_test.go checks that docs/licenses.md has a row for every
//     go.mod module and every locked npm package, each with a permissive
//     licence.
package deploy
