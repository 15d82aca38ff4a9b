package bench

import (
	"math"
	"sort"
)

// runResult is one measured run of one group (or one Chromium page).
// Per-participant figures divide the tree's totals by Participants.
type runResult struct {
	Participants int `json:"participants"`
	// Streams is what one participant sends (publishers: simulcast
	// layers plus audio) or receives (subscribers: video plus audio).
	Streams int `json:"streamsPerParticipant"`
	Procs   int `json:"processes"`

	WindowSeconds       float64 `json:"windowSeconds"`
	Cores               float64 `json:"cores"` // the tree's CPU time over the window
	CoresPerParticipant float64 `json:"coresPerParticipant"`
	CoresPerStream      float64 `json:"coresPerStream"`
	RSSMiB              float64 `json:"rssMiB"` // sum of VmRSS over the tree at the window's end
	PSSMiB              float64 `json:"pssMiB"` // sum of Pss (shared pages split)
	HWMMiB              float64 `json:"hwmMiB"` // sum of VmHWM (peaks)
	RSSMiBPerPart       float64 `json:"rssMiBPerParticipant"`
	PSSMiBPerPart       float64 `json:"pssMiBPerParticipant"`

	ServerCores  float64 `json:"serverCores"` // reference server (node + worker) over the window
	ServerRSSMiB float64 `json:"serverRssMiB"`
	MachineBusy  float64 `json:"machineBusyCores"` // every process on the machine, other load included

	// VideoOK / AudioOK: participants whose media was seen arriving
	// (publishers: at the monitor; subscribers: consumer.media).
	VideoOK int `json:"videoArrived"`
	AudioOK int `json:"audioArrived"`
	// MinFPS is the lowest frame rate at which a publisher's video was
	// decoded by the monitor over the window (publishers), or the rate the
	// Chromium page decoded (baselines); FPSRatio divides it by the
	// nominal 30 fps.
	MinFPS   float64 `json:"minFps"`
	FPSRatio float64 `json:"fpsRatio"`
	// MedianFPS and SlowVideos (publishers under 95 % of 30 fps) tell one
	// slow video from a slow fleet.
	MedianFPS  float64 `json:"medianFps,omitempty"`
	SlowVideos int     `json:"slowVideos,omitempty"`
	// BytesReceived: subscribers' bytes received, summed from their last
	// statistics (0 when the output does not carry them).
	BytesReceived float64 `json:"bytesReceived,omitempty"`
	Detail        string  `json:"detail,omitempty"`
	Err           string  `json:"error,omitempty"`
}

func (r runResult) ok() bool { return r.Err == "" }

// median of xs (NaN for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianRun is the field-wise median of the runs that succeeded (so its
// fields may come from different runs). Err is set when none did.
func medianRun(runs []runResult) runResult {
	var okRuns []runResult
	for _, r := range runs {
		if r.ok() {
			okRuns = append(okRuns, r)
		}
	}
	if len(okRuns) == 0 {
		out := runResult{Err: "no successful run"}
		if len(runs) > 0 {
			out.Err = runs[len(runs)-1].Err
		}
		return out
	}
	m := func(get func(runResult) float64) float64 {
		xs := make([]float64, len(okRuns))
		for i, r := range okRuns {
			xs[i] = get(r)
		}
		return median(xs)
	}
	first := okRuns[0]
	return runResult{
		Participants: first.Participants, Streams: first.Streams, Procs: first.Procs,
		WindowSeconds:       m(func(r runResult) float64 { return r.WindowSeconds }),
		Cores:               m(func(r runResult) float64 { return r.Cores }),
		CoresPerParticipant: m(func(r runResult) float64 { return r.CoresPerParticipant }),
		CoresPerStream:      m(func(r runResult) float64 { return r.CoresPerStream }),
		RSSMiB:              m(func(r runResult) float64 { return r.RSSMiB }),
		PSSMiB:              m(func(r runResult) float64 { return r.PSSMiB }),
		HWMMiB:              m(func(r runResult) float64 { return r.HWMMiB }),
		RSSMiBPerPart:       m(func(r runResult) float64 { return r.RSSMiBPerPart }),
		PSSMiBPerPart:       m(func(r runResult) float64 { return r.PSSMiBPerPart }),
		ServerCores:         m(func(r runResult) float64 { return r.ServerCores }),
		ServerRSSMiB:        m(func(r runResult) float64 { return r.ServerRSSMiB }),
		MachineBusy:         m(func(r runResult) float64 { return r.MachineBusy }),
		VideoOK:             int(m(func(r runResult) float64 { return float64(r.VideoOK) })),
		AudioOK:             int(m(func(r runResult) float64 { return float64(r.AudioOK) })),
		MinFPS:              m(func(r runResult) float64 { return r.MinFPS }),
		FPSRatio:            m(func(r runResult) float64 { return r.FPSRatio }),
		MedianFPS:           m(func(r runResult) float64 { return r.MedianFPS }),
		SlowVideos:          int(m(func(r runResult) float64 { return float64(r.SlowVideos) })),
		BytesReceived:       m(func(r runResult) float64 { return r.BytesReceived }),
		Detail:              first.Detail,
	}
}

// sizeResult is one fleet size of one scenario: its runs and their median.
type sizeResult struct {
	Size   int         `json:"size"`
	Runs   []runResult `json:"runs"`
	Median runResult   `json:"median"`
	// Ratios of the Chromium peer's per-participant cost to this one's
	// (how many times cheaper callctl is), from medians of the same run.
	XCPU float64 `json:"xCheaperCpuThanChromium,omitempty"`
	XRSS float64 `json:"xCheaperRssThanChromium,omitempty"`
	XPSS float64 `json:"xCheaperPssThanChromium,omitempty"`
	// Sustained: every publisher's video arrived at ≥ 95 % of its frame
	// rate (publisher scenarios only).
	Sustained *bool `json:"sustained,omitempty"`
}

// scenarioResult is one scenario over its fleet sizes.
type scenarioResult struct {
	ID    string       `json:"id"`
	Title string       `json:"title"`
	Role  string       `json:"role"` // publisher, subscriber, chromium
	Sizes []sizeResult `json:"sizes"`
	Note  string       `json:"note,omitempty"`
}

// ratio is a/b, 0 when either is not a positive number.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 0
	}
	return a / b
}

// firstFrameResult compares the time to the first decoded remote frame.
type firstFrameResult struct {
	CallctlMs  []float64 `json:"callctlMs"`
	ChromiumMs []float64 `json:"chromiumMs"`
	MedianCall float64   `json:"medianCallctlMs"`
	MedianChr  float64   `json:"medianChromiumMs"`
}

// sustainResult is the largest fleet of replaying publishers whose every
// video still arrived at a subscriber at ≥ 95 % of its frame rate.
type sustainResult struct {
	MaxSize     int     `json:"maxSize"` // 0: not even the smallest size
	ServerCores float64 `json:"serverCoresAtMax"`
	MachineBusy float64 `json:"machineBusyCoresAtMax"`
	Capped      bool    `json:"capped"` // the largest size tried still passed
	Tried       []int   `json:"sizesTried"`
}

// report is everything one benchmark run measured (docs/benchmarks.json).
type report struct {
	Generated        string  `json:"generated"`
	DurationSeconds  float64 `json:"durationSeconds"`
	Mode             string  `json:"mode"`
	Host             string  `json:"host"`
	MediasoupVersion string  `json:"mediasoupVersion"`
	Config           config  `json:"config"`

	// The baselines: a Chromium page running mediasoup-client (the
	// viewer page), publishing and consuming (ChromiumPeer) and
	// receive-only (ChromiumSub).
	ChromiumPeer *sizeResult `json:"chromiumPeer,omitempty"`
	ChromiumSub  *sizeResult `json:"chromiumSubscriber,omitempty"`

	Scenarios  []scenarioResult  `json:"scenarios"`
	FirstFrame *firstFrameResult `json:"firstFrame,omitempty"`
	Sustain    *sustainResult    `json:"sustain,omitempty"`
	Profiles   []profileResult   `json:"profiles,omitempty"`
	Delay      []delayRun        `json:"delay,omitempty"`
	Notes      []string          `json:"notes,omitempty"`
}

// profileResult is where the CPU and memory of participants go: the SDK
// run inside the benchmark process (as a fleet runs them), profiled with
// pprof.
type profileResult struct {
	Role         string  `json:"role"`
	Participants int     `json:"participants"`
	Cores        float64 `json:"coresPerParticipant"` // getrusage of the process over the window
	HeapMiB      float64 `json:"heapInuseMiBPerParticipant"`
	CPUTop       string  `json:"cpuTop"`       // go tool pprof -top of the CPU profile
	CPUByPackage string  `json:"cpuByPackage"` // the same, flat time summed by package
	HeapTop      string  `json:"heapTop"`      // go tool pprof -top of the in-use heap
	Err          string  `json:"error,omitempty"`
}
