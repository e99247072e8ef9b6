package flowlog

// field identifies a flow-log field. The fields the parser reads come first
// (below numUsed) so that per-line scratch space stays small; the others are
// known but ignored.
type field uint8

// Fields the parser reads.
const (
	fUnknown field = iota // an unknown name: the column is skipped
	fVersion
	fAccountID
	fInterfaceID
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	fVPCID
	fSubnetID
	fInstanceID
	fTCPFlags
	fType
	fPktSrcAddr
	fPktDstAddr
	fFlowDirection
	fTrafficPath
	fTGWAttachmentID // Transit Gateway: the interface of a record without interface-id
	numUsed          // fields below are known and ignored
)

// Known fields the parser ignores.
const (
	fRegion field = numUsed + iota
	fAZID
	fSublocationType
	fSublocationID
	fPktSrcAWSService
	fPktDstAWSService
	fECSClusterARN
	fECSClusterName
	fECSContainerInstanceARN
	fECSContainerInstanceID
	fECSContainerID
	fECSSecondContainerID
	fECSServiceName
	fECSTaskDefinitionARN
	fECSTaskARN
	fECSTaskID
	fRejectReason
	fResourceID
	fEncryptionStatus
	// Transit Gateway flow logs (version 6; "Transit Gateway Flow Log
	// records", https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html).
	fResourceType
	fTGWID
	fTGWSrcVPCAccountID
	fTGWDstVPCAccountID
	fTGWSrcVPCID
	fTGWDstVPCID
	fTGWSrcSubnetID
	fTGWDstSubnetID
	fTGWSrcENI
	fTGWDstENI
	fTGWSrcAZID
	fTGWDstAZID
	fTGWPairAttachmentID
	fPacketsLostNoRoute
	fPacketsLostBlackhole
	fPacketsLostMTUExceeded
	fPacketsLostTTLExpired
	numFields
)

// fieldInfo is the canonical (hyphenated) name of a field and the flow-log
// version that introduced it (0 when not documented).
type fieldInfo struct {
	name    string
	version int
}

var fields = [numFields]fieldInfo{
	fVersion:                 {"version", 2},
	fAccountID:               {"account-id", 2},
	fInterfaceID:             {"interface-id", 2},
	fSrcAddr:                 {"srcaddr", 2},
	fDstAddr:                 {"dstaddr", 2},
	fSrcPort:                 {"srcport", 2},
	fDstPort:                 {"dstport", 2},
	fProtocol:                {"protocol", 2},
	fPackets:                 {"packets", 2},
	fBytes:                   {"bytes", 2},
	fStart:                   {"start", 2},
	fEnd:                     {"end", 2},
	fAction:                  {"action", 2},
	fLogStatus:               {"log-status", 2},
	fVPCID:                   {"vpc-id", 3},
	fSubnetID:                {"subnet-id", 3},
	fInstanceID:              {"instance-id", 3},
	fTCPFlags:                {"tcp-flags", 3},
	fType:                    {"type", 3},
	fPktSrcAddr:              {"pkt-srcaddr", 3},
	fPktDstAddr:              {"pkt-dstaddr", 3},
	fRegion:                  {"region", 4},
	fAZID:                    {"az-id", 4},
	fSublocationType:         {"sublocation-type", 4},
	fSublocationID:           {"sublocation-id", 4},
	fPktSrcAWSService:        {"pkt-src-aws-service", 5},
	fPktDstAWSService:        {"pkt-dst-aws-service", 5},
	fFlowDirection:           {"flow-direction", 5},
	fTrafficPath:             {"traffic-path", 5},
	fECSClusterARN:           {"ecs-cluster-arn", 7},
	fECSClusterName:          {"ecs-cluster-name", 7},
	fECSContainerInstanceARN: {"ecs-container-instance-arn", 7},
	fECSContainerInstanceID:  {"ecs-container-instance-id", 7},
	fECSContainerID:          {"ecs-container-id", 7},
	fECSSecondContainerID:    {"ecs-second-container-id", 7},
	fECSServiceName:          {"ecs-service-name", 7},
	fECSTaskDefinitionARN:    {"ecs-task-definition-arn", 7},
	fECSTaskARN:              {"ecs-task-arn", 7},
	fECSTaskID:               {"ecs-task-id", 7},
	fRejectReason:            {"reject-reason", 8},
	fResourceID:              {"resource-id", 0},
	fEncryptionStatus:        {"encryption-status", 0},
	fTGWAttachmentID:         {"tgw-attachment-id", 6},
	fResourceType:            {"resource-type", 6},
	fTGWID:                   {"tgw-id", 6},
	fTGWSrcVPCAccountID:      {"tgw-src-vpc-account-id", 6},
	fTGWDstVPCAccountID:      {"tgw-dst-vpc-account-id", 6},
	fTGWSrcVPCID:             {"tgw-src-vpc-id", 6},
	fTGWDstVPCID:             {"tgw-dst-vpc-id", 6},
	fTGWSrcSubnetID:          {"tgw-src-subnet-id", 6},
	fTGWDstSubnetID:          {"tgw-dst-subnet-id", 6},
	fTGWSrcENI:               {"tgw-src-eni", 6},
	fTGWDstENI:               {"tgw-dst-eni", 6},
	fTGWSrcAZID:              {"tgw-src-az-id", 6},
	fTGWDstAZID:              {"tgw-dst-az-id", 6},
	fTGWPairAttachmentID:     {"tgw-pair-attachment-id", 6},
	fPacketsLostNoRoute:      {"packets-lost-no-route", 6},
	fPacketsLostBlackhole:    {"packets-lost-blackhole", 6},
	fPacketsLostMTUExceeded:  {"packets-lost-mtu-exceeded", 6},
	fPacketsLostTTLExpired:   {"packets-lost-ttl-expired", 6},
}

// byName maps canonical names to fields.
var byName = func() map[string]field {
	m := make(map[string]field, numFields)
	for f := fVersion; f < numFields; f++ {
		m[fields[f].name] = f
	}
	return m
}()

// maxNameLen bounds the length of a field name; longer tokens are not names.
const maxNameLen = 64

// normalizeName appends to dst the canonical spelling of a field-name token:
// lower case, '_' written as '-'. It reports false if tok is not a valid
// name: 1 to maxNameLen bytes of letters, digits, '-' and '_', starting with
// a letter.
func normalizeName(dst, tok []byte) ([]byte, bool) {
	if len(tok) == 0 || len(tok) > maxNameLen || !isLetter(tok[0]) {
		return dst, false
	}
	for _, c := range tok {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '_':
			c = '-'
		default:
			return dst, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// lookupField returns the field named by tok (any accepted spelling) and
// whether tok is a valid name at all. It does not allocate.
func lookupField(tok []byte) (f field, ok bool) {
	var buf [maxNameLen]byte
	name, ok := normalizeName(buf[:0], tok)
	if !ok {
		return fUnknown, false
	}
	return byName[string(name)], true
}

// KnownField reports whether name (any accepted spelling: "pkt-srcaddr",
// "pkt_srcaddr", "PKT-SRCADDR") is a documented flow-log field.
func KnownField(name string) bool {
	f, ok := lookupField([]byte(name))
	return ok && f != fUnknown
}
