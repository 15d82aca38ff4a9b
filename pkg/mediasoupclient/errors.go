package mediasoupclient

import "errors"

var (
	// ErrNotLoaded is returned by a Device used before Load.
	ErrNotLoaded = errors.New("mediasoupclient: device not loaded")
	// ErrAlreadyLoaded is returned by a second Load.
	ErrAlreadyLoaded = errors.New("mediasoupclient: device already loaded")
	// ErrClosed is returned by operations on a closed transport, producer
	// or consumer.
	ErrClosed = errors.New("mediasoupclient: closed")
	// ErrNoHandler is returned when a transport needs an application hook
	// (OnConnect, OnProduce, OnProduceData) that was not set.
	ErrNoHandler = errors.New("mediasoupclient: no handler set")
	// ErrSctpNotEnabled is returned by ProduceData/ConsumeData on a
	// transport the server created without SCTP.
	ErrSctpNotEnabled = errors.New("mediasoupclient: SCTP not enabled by remote transport")
	// ErrInvalidParameters wraps every rejection of server-provided
	// parameters (bad payload types, ids, SSRCs, unsafe strings).
	ErrInvalidParameters = errors.New("mediasoupclient: invalid parameters")
	// ErrBroken is returned by a transport whose PeerConnection was left
	// half-negotiated (pion cannot roll back an applied offer): close it
	// and create a new one.
	ErrBroken = errors.New("mediasoupclient: transport broken by a failed negotiation")
	// ErrUnsupported is returned for what pion cannot do (for example
	// replacing the tracks of a simulcast producer).
	ErrUnsupported = errors.New("mediasoupclient: unsupported")
)
