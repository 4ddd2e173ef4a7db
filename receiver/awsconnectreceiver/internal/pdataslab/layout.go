package pdataslab

import (
	"reflect"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Mirrors of pdata's internal types (go.opentelemetry.io/collector/pdata/internal, v1.67.0),
// field for field. Nothing here is trusted: checkLayout compares each with the real type,
// through reflect, before the package writes a byte through one.
type (
	anyValue    struct{ Value any }
	stringValue struct{ StringValue string }
	intValue    struct{ IntValue int64 }
	doubleValue struct{ DoubleValue float64 }
	boolValue   struct{ BoolValue bool }
	kvlistValue struct{ KvlistValue *keyValueList }
	arrayValue  struct{ ArrayValue *arrayValueList }

	keyValueList   struct{ Values []keyValue }
	arrayValueList struct{ Values []anyValue }
	keyValue       struct {
		Key         string
		Value       anyValue
		KeyStrindex int32
	}

	// The pcommon handles: a pointer to the proto value and one to the shared state.
	valueWrapper struct {
		orig  *anyValue
		state unsafe.Pointer
	}
	mapWrapper struct {
		orig  *[]keyValue
		state unsafe.Pointer
	}
	sliceWrapper struct {
		orig  *[]anyValue
		state unsafe.Pointer
	}
)

// sliceHeader is how gc lays out a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// eface is how gc lays out an empty interface: the dynamic type, then the pointer.
type eface struct {
	typ, data unsafe.Pointer
}

// oneofTypes are the dynamic types pdata stores in AnyValue.Value, one per kind of value,
// taken from values pdata built itself.
type oneofTypes struct {
	str, int, double, bool, kvlist, array unsafe.Pointer
}

var (
	// enabled is true when pdata's layout is the one mirrored here; false, every Slab
	// method is pdata's own setter.
	enabled bool
	types   oneofTypes
)

func init() { types, enabled = checkLayout() }

// Enabled reports whether values are carved from slabs (pdata's layout is the known one)
// or made by pdata's own setters.
func Enabled() bool { return enabled }

// checkLayout compares every mirror with pdata's type and returns the oneof types; ok is
// false at the first difference.
func checkLayout() (oneofTypes, bool) {
	if !sameLayout(reflect.TypeFor[pcommon.Value](), reflect.TypeFor[valueWrapper]()) ||
		!sameLayout(reflect.TypeFor[pcommon.Map](), reflect.TypeFor[mapWrapper]()) ||
		!sameLayout(reflect.TypeFor[pcommon.Slice](), reflect.TypeFor[sliceWrapper]()) {
		return oneofTypes{}, false
	}
	var t oneofTypes
	samples := []struct {
		v      pcommon.Value
		mirror reflect.Type
		typ    *unsafe.Pointer
	}{
		{pcommon.NewValueStr(""), reflect.TypeFor[*stringValue](), &t.str},
		{pcommon.NewValueInt(0), reflect.TypeFor[*intValue](), &t.int},
		{pcommon.NewValueDouble(0), reflect.TypeFor[*doubleValue](), &t.double},
		{pcommon.NewValueBool(false), reflect.TypeFor[*boolValue](), &t.bool},
		{pcommon.NewValueMap(), reflect.TypeFor[*kvlistValue](), &t.kvlist},
		{pcommon.NewValueSlice(), reflect.TypeFor[*arrayValue](), &t.array},
	}
	for _, s := range samples {
		oneof := origOf(s.v).Value
		if oneof == nil || !sameLayout(reflect.TypeOf(oneof), s.mirror) {
			return oneofTypes{}, false
		}
		*s.typ = (*eface)(unsafe.Pointer(&oneof)).typ
	}
	return t, true
}

// sameLayout reports whether real and mirror have the same kinds, sizes, field names and
// offsets, all the way down through pointers and slices. A mirror's unsafe.Pointer stands
// for any pointer it never follows (pdata's State).
func sameLayout(real, mirror reflect.Type) bool {
	if mirror.Kind() == reflect.UnsafePointer {
		return real.Kind() == reflect.Pointer || real.Kind() == reflect.UnsafePointer
	}
	if real.Kind() != mirror.Kind() || real.Size() != mirror.Size() || real.Align() != mirror.Align() {
		return false
	}
	switch real.Kind() {
	case reflect.Struct:
		if real.NumField() != mirror.NumField() {
			return false
		}
		for i := range real.NumField() {
			rf, mf := real.Field(i), mirror.Field(i)
			if rf.Name != mf.Name || rf.Offset != mf.Offset || !sameLayout(rf.Type, mf.Type) {
				return false
			}
		}
	case reflect.Pointer, reflect.Slice:
		return sameLayout(real.Elem(), mirror.Elem())
	case reflect.Interface:
		return real.NumMethod() == 0 && mirror.NumMethod() == 0
	case reflect.String, reflect.Bool, reflect.Int32, reflect.Int64, reflect.Float64:
	default:
		return false
	}
	return true
}

func origOf(v pcommon.Value) *anyValue { return (*valueWrapper)(unsafe.Pointer(&v)).orig }

func mapOrigOf(m pcommon.Map) *[]keyValue { return (*mapWrapper)(unsafe.Pointer(&m)).orig }

// oneof makes the interface pdata would hold for a value of dynamic type typ at p.
func oneof(typ unsafe.Pointer, p unsafe.Pointer) (v any) {
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: typ, data: p}
	return v
}
