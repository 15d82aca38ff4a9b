// callctl's stand-in for ankerl::unordered_dense (4.x), written for building
// the mediasoup worker offline (the real header-only library is not packaged
// in Debian). It provides only the subset the worker uses, map, set and hash,
// as aliases of the standard unordered containers: same semantics for lookup,
// insert and erase, without the dense storage (so iteration order is not
// insertion order, and it is somewhat slower).
#ifndef CALLCTL_ANKERL_UNORDERED_DENSE_STANDIN_H
#define CALLCTL_ANKERL_UNORDERED_DENSE_STANDIN_H

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	// hash<T> forwards to std::hash<T>. The real library lets a hasher declare
	// `using is_avalanching = void;`; that member is harmless here.
	template<class T, class Enable = void>
	struct hash
	{
		std::size_t operator()(const T& value) const noexcept(noexcept(std::hash<T>{}(value)))
		{
			return std::hash<T>{}(value);
		}
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>, class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
