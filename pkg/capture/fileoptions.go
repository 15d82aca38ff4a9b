package capture

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultFileFPS is the frame rate of an H264 Annex-B file (which carries
// no timing), and of an IVF file whose timestamps give none.
const DefaultFileFPS = 30

// FileOptions configures NewFileVideo: a pre-encoded VP8 (IVF) or H264
// (Annex-B) clip of one layer, or a set of clips, one per simulcast layer.
type FileOptions struct {
	// Path names what to play:
	//   - a file: one layer;
	//   - a directory holding one simulcast set: files named
	//     NAME-<height>p.EXT, EXT .ivf for Codec "vp8" and .h264 for "h264"
	//     (what WriteClips writes), one layer per file, ordered by height;
	//   - a prefix: the set PREFIX-<height>p.EXT, to pick one of several
	//     sets in a directory (e.g. "clips/callctl").
	Path string
	// Paths lists the layers' files explicitly, low to high resolution
	// (instead of Path).
	Paths []string
	// Codec selects the files of a directory or prefix: "vp8" (default) or
	// "h264". With files named explicitly the codec is read from them.
	Codec string
	// Layers is the number of layers to send, 1 to 3; 0 sends every layer
	// found. With fewer layers than files, the highest resolutions are
	// sent.
	Layers int
	// FPS is the playback frame rate, 1 to 60. Default: the rate the IVF
	// timestamps give, else 30 (always for Annex-B, which has no timing).
	FPS int
	// TrackID and StreamID name the track(s). Default "video" and "callctl".
	TrackID, StreamID string
}

// AudioFileOptions configures NewFileAudio.
type AudioFileOptions struct {
	// Path is an Ogg Opus file, mono or stereo.
	Path string
	// TrackID and StreamID name the track. Default "audio" and "callctl".
	TrackID, StreamID string
}

// layerFileName matches the simulcast file names NAME-<height>p.EXT.
var layerFileName = regexp.MustCompile(`^(.*)-([0-9]+)p\.([A-Za-z0-9]+)$`)

// clipExtensions maps a codec to the file extensions of its clips.
var clipExtensions = map[string][]string{
	CodecVP8:  {".ivf"},
	CodecH264: {".h264", ".264"},
}

// resolve validates o and returns the files to play, low to high.
func (o *FileOptions) resolve() ([]string, error) {
	o.Codec = strings.ToLower(o.Codec)
	if o.Codec == "" {
		o.Codec = CodecVP8
	}
	if o.TrackID == "" {
		o.TrackID = DefaultVideoTrackID
	}
	if o.StreamID == "" {
		o.StreamID = DefaultStreamID
	}
	switch {
	case clipExtensions[o.Codec] == nil:
		return nil, fmt.Errorf("%w %q (want %q or %q)", ErrUnsupportedCodec, o.Codec, CodecVP8, CodecH264)
	case o.Path == "" && len(o.Paths) == 0:
		return nil, fmt.Errorf("%w: no file given", ErrInvalidOptions)
	case o.Path != "" && len(o.Paths) > 0:
		return nil, fmt.Errorf("%w: both Path and Paths given", ErrInvalidOptions)
	case len(o.Paths) > len(simulcastRIDs):
		return nil, fmt.Errorf("%w: %d files (at most %d layers)", ErrInvalidOptions, len(o.Paths), len(simulcastRIDs))
	case o.Layers < 0 || o.Layers > len(simulcastRIDs):
		return nil, fmt.Errorf("%w: %d layers (want 1 to %d)", ErrInvalidOptions, o.Layers, len(simulcastRIDs))
	case o.FPS < 0 || o.FPS > 60:
		return nil, fmt.Errorf("%w: fps %d not in 1..60", ErrInvalidOptions, o.FPS)
	}
	files := o.Paths
	if o.Path != "" {
		var err error
		if files, err = o.findLayers(); err != nil {
			return nil, err
		}
	}
	if o.Layers > len(files) {
		return nil, fmt.Errorf("%w: %d layers asked, %d files", ErrInvalidOptions, o.Layers, len(files))
	}
	if o.Layers > 0 {
		files = files[len(files)-o.Layers:]
	}
	return files, nil
}

// findLayers resolves Path: a file, a directory or a prefix.
func (o *FileOptions) findLayers() ([]string, error) {
	dir, prefix := o.Path, ""
	if fi, err := os.Stat(o.Path); err == nil && !fi.IsDir() {
		return []string{o.Path}, nil
	} else if err != nil {
		dir, prefix = filepath.Dir(o.Path), filepath.Base(o.Path)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	type layer struct {
		path   string
		height int
	}
	sets := map[string][]layer{}
	for _, e := range entries {
		m := layerFileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() || !slices.Contains(clipExtensions[o.Codec], "."+strings.ToLower(m[3])) {
			continue
		}
		if prefix != "" && m[1] != prefix {
			continue
		}
		h, _ := strconv.Atoi(m[2])
		sets[m[1]] = append(sets[m[1]], layer{filepath.Join(dir, e.Name()), h})
	}
	switch len(sets) {
	case 0:
		return nil, fmt.Errorf("%w: no %s clip named NAME-<height>p%s at %s",
			ErrInvalidOptions, o.Codec, clipExtensions[o.Codec][0], o.Path)
	case 1:
	default:
		return nil, fmt.Errorf("%w: several %s clip sets in %s (%s): name one as DIR/NAME",
			ErrInvalidOptions, o.Codec, dir, strings.Join(slices.Sorted(maps.Keys(sets)), ", "))
	}
	var layers []layer
	for _, set := range sets {
		layers = set
	}
	if len(layers) > len(simulcastRIDs) {
		return nil, fmt.Errorf("%w: %d layers at %s (at most %d)", ErrInvalidOptions, len(layers), o.Path, len(simulcastRIDs))
	}
	slices.SortFunc(layers, func(a, b layer) int { return a.height - b.height })
	files := make([]string, len(layers))
	for i, l := range layers {
		files[i] = l.path
	}
	return files, nil
}
