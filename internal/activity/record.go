package activity

import (
	"unsafe"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// member is a record member that some format uses; mNone for any other (the event never reads it).
type member uint8

const (
	mNone member = iota
	mTime
	mEventTimestamp
	mTimeGenerated
	mTimeGeneratedUTC // the portal CSV's "TimeGenerated [UTC]"
	mOperationNameValue
	mOperationName
	mResultType
	mActivityStatusValue
	mStatus
	mActivityStatus
	mResultSignature
	mActivitySubstatusValue
	mSubStatus
	mActivitySubstatus
	mCategoryValue
	mCategory
	mCaller
	mCallerIPAddress
	mCorrelationID
	mOperationID
	mEventDataID
	mResourceID
	mResourceIDLA // _ResourceId
	mLevel
	mPropertiesD
	mProperties
	mIdentity
	mAuthorizationD
	mAuthorization
	mClaimsD
	mClaims
	mHTTPRequest
	mRecords
	mValue
	nMembers
)

// fieldOf names the member of a lower-case member name.
func memberOf(k string) member {
	switch k {
	case "time":
		return mTime
	case "eventtimestamp":
		return mEventTimestamp
	case "timegenerated":
		return mTimeGenerated
	case "timegenerated [utc]":
		return mTimeGeneratedUTC
	case "operationnamevalue":
		return mOperationNameValue
	case "operationname":
		return mOperationName
	case "resulttype":
		return mResultType
	case "activitystatusvalue":
		return mActivityStatusValue
	case "status":
		return mStatus
	case "activitystatus":
		return mActivityStatus
	case "resultsignature":
		return mResultSignature
	case "activitysubstatusvalue":
		return mActivitySubstatusValue
	case "substatus":
		return mSubStatus
	case "activitysubstatus":
		return mActivitySubstatus
	case "categoryvalue":
		return mCategoryValue
	case "category":
		return mCategory
	case "caller":
		return mCaller
	case "calleripaddress":
		return mCallerIPAddress
	case "correlationid":
		return mCorrelationID
	case "operationid":
		return mOperationID
	case "eventdataid":
		return mEventDataID
	case "resourceid":
		return mResourceID
	case "_resourceid":
		return mResourceIDLA
	case "level":
		return mLevel
	case "properties_d":
		return mPropertiesD
	case "properties":
		return mProperties
	case "identity":
		return mIdentity
	case "authorization_d":
		return mAuthorizationD
	case "authorization":
		return mAuthorization
	case "claims_d":
		return mClaimsD
	case "claims":
		return mClaims
	case "httprequest":
		return mHTTPRequest
	case "records":
		return mRecords
	case "value":
		return mValue
	}
	return mNone
}

// memberOfKey names the member of a member name as it appears between its quotes, in any case,
// without allocating.
func memberOfKey(k []byte) member {
	var buf [24]byte
	if len(k) > len(buf) || len(k) == 0 {
		return mNone
	}
	for i, c := range k {
		switch {
		case c == '\\': // escaped: rare, unquote first
			return memberOf(lowerASCII(jsonscan.UnquoteKey(k)))
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return memberOf(unsafe.String(&buf[0], len(k)))
}

// record holds the raw JSON values of the members an event is built from, by member; "" where the
// record has none. With a repeated member the last one counts, as in encoding/json.
type record struct{ v [nMembers]string }

func (r *record) set(f member, raw string) {
	if f != mNone {
		r.v[f] = raw
	}
}

func (r *record) has(f member) bool { return r.v[f] != "" }
