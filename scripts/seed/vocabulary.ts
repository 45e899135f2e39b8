/**
 * The word lists behind the synthetic data: names, places, and the clinical codes (LOINC
 * observations with realistic ranges and UCUM units, SNOMED CT conditions and encounter types,
 * RxNorm medications). Small on purpose — a few dozen of each is enough to make search, paging
 * and analytics behave as on real data, without shipping a terminology.
 * https://hl7.org/fhir/R4/terminologies-systems.html
 */

/** Code systems, as R4 names them. */
export const SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  ucum: 'http://unitsofmeasure.org',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  appointmentReason: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  degree: 'http://terminology.hl7.org/CodeSystem/v2-0360',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  maritalStatus: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  ssn: 'http://hl7.org/fhir/sid/us-ssn',
  mrn: 'http://hospital.fhirgraph.example/fhir/sid/mrn',
  organizationId: 'http://fhirgraph.example/fhir/sid/organization',
} as const;

/** A code and its display text. */
export interface Concept {
  code: string;
  display: string;
}

/** An observation with a quantity value: its LOINC code, UCUM unit and a plausible adult range. */
export interface QuantitySpec extends Concept {
  category: 'vital-signs' | 'laboratory';
  /** UCUM code (also used as the human unit). */
  unit: string;
  min: number;
  max: number;
  /** Digits after the decimal point; `72.50` keeps both (decimals are exact in FHIR). */
  decimals: number;
  /** Normal range, when the lab reports one. */
  normal?: [number, number];
  /** Values derived from the patient's own height and weight rather than drawn from the range. */
  anthropometric?: 'height' | 'weight' | 'bmi';
}

/** Vital signs (https://hl7.org/fhir/R4/observation-vitalsigns.html) and common labs. */
export const QUANTITY_OBSERVATIONS: readonly QuantitySpec[] = [
  { code: '8867-4', display: 'Heart rate', category: 'vital-signs', unit: '/min', min: 52, max: 110, decimals: 0 },
  { code: '9279-1', display: 'Respiratory rate', category: 'vital-signs', unit: '/min', min: 12, max: 22, decimals: 0 },
  { code: '8310-5', display: 'Body temperature', category: 'vital-signs', unit: 'Cel', min: 36.1, max: 38.4, decimals: 1 },
  { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', category: 'vital-signs', unit: '%', min: 92, max: 100, decimals: 0 },
  { code: '29463-7', display: 'Body weight', category: 'vital-signs', unit: 'kg', min: 40, max: 160, decimals: 1, anthropometric: 'weight' },
  { code: '8302-2', display: 'Body height', category: 'vital-signs', unit: 'cm', min: 145, max: 200, decimals: 1, anthropometric: 'height' },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', category: 'vital-signs', unit: 'kg/m2', min: 16, max: 45, decimals: 2, anthropometric: 'bmi' },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', category: 'laboratory', unit: 'mg/dL', min: 68, max: 190, decimals: 0, normal: [70, 99] },
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', category: 'laboratory', unit: '%', min: 4.4, max: 9.8, decimals: 1, normal: [4, 5.6] },
  { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 130, max: 290, decimals: 0, normal: [100, 199] },
  { code: '2571-8', display: 'Triglyceride [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 50, max: 320, decimals: 0, normal: [0, 149] },
  { code: '2085-9', display: 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 28, max: 95, decimals: 0, normal: [40, 90] },
  { code: '18262-6', display: 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', category: 'laboratory', unit: 'mg/dL', min: 55, max: 200, decimals: 0, normal: [0, 99] },
  { code: '2160-0', display: 'Creatinine [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 0.5, max: 1.8, decimals: 2, normal: [0.6, 1.3] },
  { code: '3094-0', display: 'Urea nitrogen [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 6, max: 30, decimals: 0, normal: [7, 20] },
  { code: '2951-2', display: 'Sodium [Moles/volume] in Serum or Plasma', category: 'laboratory', unit: 'mmol/L', min: 132, max: 147, decimals: 0, normal: [136, 145] },
  { code: '2823-3', display: 'Potassium [Moles/volume] in Serum or Plasma', category: 'laboratory', unit: 'mmol/L', min: 3.3, max: 5.4, decimals: 1, normal: [3.5, 5.1] },
  { code: '2075-0', display: 'Chloride [Moles/volume] in Serum or Plasma', category: 'laboratory', unit: 'mmol/L', min: 95, max: 109, decimals: 0, normal: [98, 107] },
  { code: '2028-9', display: 'Carbon dioxide, total [Moles/volume] in Serum or Plasma', category: 'laboratory', unit: 'mmol/L', min: 20, max: 32, decimals: 0, normal: [22, 29] },
  { code: '17861-6', display: 'Calcium [Mass/volume] in Serum or Plasma', category: 'laboratory', unit: 'mg/dL', min: 8.3, max: 10.6, decimals: 1, normal: [8.6, 10.3] },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', category: 'laboratory', unit: 'g/dL', min: 10.8, max: 17.8, decimals: 1, normal: [12, 17.5] },
  { code: '4544-3', display: 'Hematocrit [Volume Fraction] of Blood by Automated count', category: 'laboratory', unit: '%', min: 33, max: 53, decimals: 1, normal: [36, 50] },
  { code: '6690-2', display: 'Leukocytes [#/volume] in Blood by Automated count', category: 'laboratory', unit: '10*3/uL', min: 3.5, max: 12.5, decimals: 1, normal: [4.5, 11] },
  { code: '789-8', display: 'Erythrocytes [#/volume] in Blood by Automated count', category: 'laboratory', unit: '10*6/uL', min: 3.8, max: 6, decimals: 2, normal: [4.2, 5.9] },
  { code: '777-3', display: 'Platelets [#/volume] in Blood by Automated count', category: 'laboratory', unit: '10*3/uL', min: 140, max: 430, decimals: 0, normal: [150, 400] },
  { code: '1742-6', display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', category: 'laboratory', unit: 'U/L', min: 7, max: 65, decimals: 0, normal: [7, 56] },
  { code: '1920-8', display: 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma', category: 'laboratory', unit: 'U/L', min: 10, max: 50, decimals: 0, normal: [10, 40] },
  { code: '3016-3', display: 'Thyrotropin [Units/volume] in Serum or Plasma', category: 'laboratory', unit: 'm[IU]/L', min: 0.3, max: 6.5, decimals: 2, normal: [0.4, 4.5] },
  { code: '33914-3', display: 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)', category: 'laboratory', unit: 'mL/min/{1.73_m2}', min: 40, max: 120, decimals: 0, normal: [60, 120] },
];

/** The blood-pressure panel, recorded with its two components (mm[Hg]). */
export const BLOOD_PRESSURE = {
  panel: { code: '55284-4', display: 'Blood pressure systolic and diastolic' },
  systolic: { code: '8480-6', display: 'Systolic blood pressure', min: 96, max: 168 },
  diastolic: { code: '8462-4', display: 'Diastolic blood pressure', min: 58, max: 102 },
  unit: 'mm[Hg]',
} as const;

/** A SNOMED CT problem; `acute` ones are usually resolved. */
export interface ConditionSpec extends Concept {
  acute: boolean;
}

/** Common problem-list conditions (SNOMED CT). */
export const CONDITIONS: readonly ConditionSpec[] = [
  { code: '38341003', display: 'Hypertensive disorder, systemic arterial (disorder)', acute: false },
  { code: '59621000', display: 'Essential hypertension (disorder)', acute: false },
  { code: '44054006', display: 'Diabetes mellitus type 2 (disorder)', acute: false },
  { code: '15777000', display: 'Prediabetes (finding)', acute: false },
  { code: '55822004', display: 'Hyperlipidemia (disorder)', acute: false },
  { code: '195967001', display: 'Asthma (disorder)', acute: false },
  { code: '13645005', display: 'Chronic obstructive lung disease (disorder)', acute: false },
  { code: '35489007', display: 'Depressive disorder (disorder)', acute: false },
  { code: '197480006', display: 'Anxiety disorder (disorder)', acute: false },
  { code: '49436004', display: 'Atrial fibrillation (disorder)', acute: false },
  { code: '53741008', display: 'Coronary arteriosclerosis (disorder)', acute: false },
  { code: '84114007', display: 'Heart failure (disorder)', acute: false },
  { code: '414916001', display: 'Obesity (disorder)', acute: false },
  { code: '40930008', display: 'Hypothyroidism (disorder)', acute: false },
  { code: '239873007', display: 'Osteoarthritis of knee (disorder)', acute: false },
  { code: '69896004', display: 'Rheumatoid arthritis (disorder)', acute: false },
  { code: '64859006', display: 'Osteoporosis (disorder)', acute: false },
  { code: '37796009', display: 'Migraine (disorder)', acute: false },
  { code: '90560007', display: 'Gout (disorder)', acute: false },
  { code: '433144002', display: 'Chronic kidney disease stage 3 (disorder)', acute: false },
  { code: '235595009', display: 'Gastroesophageal reflux disease (disorder)', acute: false },
  { code: '73430006', display: 'Sleep apnea (disorder)', acute: false },
  { code: '10509002', display: 'Acute bronchitis (disorder)', acute: true },
  { code: '444814009', display: 'Viral sinusitis (disorder)', acute: true },
  { code: '195662009', display: 'Acute viral pharyngitis (disorder)', acute: true },
  { code: '68566005', display: 'Urinary tract infectious disease (disorder)', acute: true },
  { code: '233604007', display: 'Pneumonia (disorder)', acute: true },
];

/** A kind of encounter: SNOMED CT type and the v3 ActCode class it belongs to. */
export interface EncounterSpec extends Concept {
  classCode: 'AMB' | 'EMER' | 'IMP';
  /** Typical length in minutes. */
  minutes: [number, number];
}

/** Encounter types (SNOMED CT procedures), mostly ambulatory. */
export const ENCOUNTER_TYPES: readonly EncounterSpec[] = [
  { code: '185349003', display: 'Encounter for check up (procedure)', classCode: 'AMB', minutes: [15, 40] },
  { code: '162673000', display: 'General examination of patient (procedure)', classCode: 'AMB', minutes: [20, 45] },
  { code: '390906007', display: 'Follow-up encounter (procedure)', classCode: 'AMB', minutes: [10, 30] },
  { code: '185347001', display: 'Encounter for problem (procedure)', classCode: 'AMB', minutes: [15, 40] },
  { code: '185345009', display: 'Encounter for symptom (procedure)', classCode: 'AMB', minutes: [15, 35] },
  { code: '439740005', display: 'Postoperative follow-up visit (procedure)', classCode: 'AMB', minutes: [10, 25] },
  { code: '50849002', display: 'Emergency room admission (procedure)', classCode: 'EMER', minutes: [90, 480] },
  { code: '32485007', display: 'Hospital admission (procedure)', classCode: 'IMP', minutes: [1440, 7200] },
];

/** Display names of the v3 ActCode encounter classes used above. */
export const ENCOUNTER_CLASS_DISPLAY: Record<EncounterSpec['classCode'], string> = {
  AMB: 'ambulatory',
  EMER: 'emergency',
  IMP: 'inpatient encounter',
};

/** A medication (RxNorm clinical drug) and a typical instruction. */
export interface MedicationSpec extends Concept {
  dosage: string;
  /** SNOMED CT codes of the conditions it is typically prescribed for. */
  treats: readonly string[];
}

/** Frequently prescribed drugs (RxNorm SCD codes). */
export const MEDICATIONS: readonly MedicationSpec[] = [
  { code: '314076', display: 'lisinopril 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['38341003', '59621000', '84114007'] },
  { code: '197361', display: 'amlodipine 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['38341003', '59621000'] },
  { code: '308136', display: 'amlodipine 2.5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['38341003', '59621000'] },
  { code: '310798', display: 'Hydrochlorothiazide 25 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every morning' , treats: ['38341003', '59621000'] },
  { code: '860975', display: '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet', dosage: 'Take 1 tablet by mouth with the evening meal' , treats: ['44054006', '15777000'] },
  { code: '259255', display: 'Atorvastatin 80 MG Oral Tablet', dosage: 'Take 1 tablet by mouth at bedtime' , treats: ['55822004', '53741008'] },
  { code: '312961', display: 'Simvastatin 20 MG Oral Tablet', dosage: 'Take 1 tablet by mouth at bedtime' , treats: ['55822004'] },
  { code: '314231', display: 'Simvastatin 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth at bedtime' , treats: ['55822004'] },
  { code: '966222', display: 'Levothyroxine Sodium 0.075 MG Oral Tablet', dosage: 'Take 1 tablet by mouth before breakfast' , treats: ['40930008'] },
  { code: '895994', display: '120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', dosage: 'Inhale 2 puffs twice daily' , treats: ['195967001', '13645005'] },
  { code: '745679', display: '200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler', dosage: 'Inhale 2 puffs every 4 hours as needed' , treats: ['195967001', '13645005', '10509002'] },
  { code: '313782', display: 'Acetaminophen 325 MG Oral Tablet', dosage: 'Take 2 tablets by mouth every 6 hours as needed' , treats: ['239873007', '37796009', '195662009', '444814009'] },
  { code: '310965', display: 'Ibuprofen 200 MG Oral Tablet', dosage: 'Take 2 tablets by mouth every 8 hours as needed' , treats: ['239873007', '69896004', '90560007', '37796009'] },
  { code: '849574', display: 'Naproxen sodium 220 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every 12 hours as needed' , treats: ['239873007', '69896004', '90560007'] },
  { code: '308182', display: 'Amoxicillin 250 MG Oral Capsule', dosage: 'Take 1 capsule by mouth three times daily for 10 days' , treats: ['195662009', '444814009', '233604007'] },
  { code: '562251', display: 'Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every 8 hours for 7 days' , treats: ['444814009', '68566005', '233604007'] },
  { code: '834061', display: 'Penicillin V Potassium 250 MG Oral Tablet', dosage: 'Take 1 tablet by mouth four times daily for 10 days' , treats: ['195662009'] },
  { code: '243670', display: 'aspirin 81 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['53741008'] },
  { code: '309362', display: 'Clopidogrel 75 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['53741008'] },
  { code: '855332', display: 'Warfarin Sodium 5 MG Oral Tablet', dosage: 'Take as directed by the anticoagulation clinic' , treats: ['49436004'] },
  { code: '313988', display: 'Furosemide 40 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every morning' , treats: ['84114007', '433144002'] },
  { code: '1014676', display: 'cetirizine hydrochloride 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' , treats: ['444814009'] },
  { code: '904419', display: 'Alendronic acid 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily before breakfast' , treats: ['64859006'] },
  { code: '106892', display: 'insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension', dosage: 'Inject subcutaneously twice daily as directed' , treats: ['44054006'] },
];

/** Appointment reasons (HL7 v2 table 0276). */
export const APPOINTMENT_TYPES: readonly Concept[] = [
  { code: 'ROUTINE', display: 'Routine appointment - default if not valued' },
  { code: 'FOLLOWUP', display: 'A follow up visit from a previous appointment' },
  { code: 'CHECKUP', display: 'A routine check-up, such as an annual physical' },
  { code: 'WALKIN', display: 'A previously unscheduled walk-in visit' },
];

/** Given names by administrative gender. */
export const GIVEN_NAMES = {
  female: ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen',
    'Nancy', 'Lisa', 'Margaret', 'Sandra', 'Ashley', 'Emily', 'Michelle', 'Amanda', 'Melissa', 'Deborah',
    'Stephanie', 'Rebecca', 'Laura', 'Sharon', 'Cynthia', 'Amy', 'Angela', 'Anna', 'Maria', 'Sofia', 'Aisha', 'Mei'],
  male: ['James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles',
    'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Paul', 'Andrew', 'Joshua',
    'Kenneth', 'Kevin', 'Brian', 'George', 'Timothy', 'Ronald', 'Jason', 'Edward', 'Luis', 'Carlos', 'Omar', 'Wei'],
} as const;

/** Family names. */
export const FAMILY_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Chen', 'Patel', "O'Brien", 'Kowalski', 'Okafor', 'Schmidt',
];

/** A city with its state and a ZIP prefix (three digits). */
export interface City {
  city: string;
  state: string;
  zip: string;
  areaCode: string;
}

/** Cities for addresses and organizations. */
export const CITIES: readonly City[] = [
  { city: 'Boston', state: 'MA', zip: '021', areaCode: '617' },
  { city: 'Worcester', state: 'MA', zip: '016', areaCode: '508' },
  { city: 'Springfield', state: 'MA', zip: '011', areaCode: '413' },
  { city: 'Providence', state: 'RI', zip: '029', areaCode: '401' },
  { city: 'Hartford', state: 'CT', zip: '061', areaCode: '860' },
  { city: 'New Haven', state: 'CT', zip: '065', areaCode: '203' },
  { city: 'Albany', state: 'NY', zip: '122', areaCode: '518' },
  { city: 'Buffalo', state: 'NY', zip: '142', areaCode: '716' },
  { city: 'Philadelphia', state: 'PA', zip: '191', areaCode: '215' },
  { city: 'Pittsburgh', state: 'PA', zip: '152', areaCode: '412' },
  { city: 'Baltimore', state: 'MD', zip: '212', areaCode: '410' },
  { city: 'Richmond', state: 'VA', zip: '232', areaCode: '804' },
  { city: 'Raleigh', state: 'NC', zip: '276', areaCode: '919' },
  { city: 'Atlanta', state: 'GA', zip: '303', areaCode: '404' },
  { city: 'Nashville', state: 'TN', zip: '372', areaCode: '615' },
  { city: 'Columbus', state: 'OH', zip: '432', areaCode: '614' },
  { city: 'Detroit', state: 'MI', zip: '482', areaCode: '313' },
  { city: 'Chicago', state: 'IL', zip: '606', areaCode: '312' },
  { city: 'Milwaukee', state: 'WI', zip: '532', areaCode: '414' },
  { city: 'Minneapolis', state: 'MN', zip: '554', areaCode: '612' },
  { city: 'St. Louis', state: 'MO', zip: '631', areaCode: '314' },
  { city: 'Denver', state: 'CO', zip: '802', areaCode: '303' },
  { city: 'Austin', state: 'TX', zip: '787', areaCode: '512' },
  { city: 'Phoenix', state: 'AZ', zip: '850', areaCode: '602' },
  { city: 'Portland', state: 'OR', zip: '972', areaCode: '503' },
  { city: 'Seattle', state: 'WA', zip: '981', areaCode: '206' },
  { city: 'Sacramento', state: 'CA', zip: '958', areaCode: '916' },
];

/** Street names (a number and a suffix are added). */
export const STREETS: readonly string[] = [
  'Main', 'Oak', 'Pine', 'Maple', 'Cedar', 'Elm', 'Washington', 'Lake', 'Hill', 'Walnut',
  'Park', 'Spring', 'Church', 'Highland', 'Union', 'Franklin', 'Chestnut', 'Jefferson', 'Lincoln', 'Madison',
  'River', 'Mill', 'Prospect', 'Summer', 'Willow', 'Ridge',
];

/** Street suffixes. */
export const STREET_SUFFIXES: readonly string[] = ['Street', 'Avenue', 'Road', 'Lane', 'Drive', 'Court', 'Boulevard', 'Way'];

/** Organization name patterns; `{city}` is replaced. */
export const ORGANIZATION_PATTERNS: readonly string[] = [
  '{city} General Hospital', '{city} Medical Center', '{city} Family Health Clinic', '{city} Community Health Center',
  'St. Mary\'s Hospital of {city}', '{city} Regional Medical Center', 'Northside Clinic {city}', '{city} University Hospital',
];

/** Marital status (v3 MaritalStatus), in the order of {@link MARITAL_STATUS_WEIGHTS}. */
export const MARITAL_STATUSES: readonly Concept[] = [
  { code: 'M', display: 'Married' },
  { code: 'S', display: 'Never Married' },
  { code: 'D', display: 'Divorced' },
  { code: 'W', display: 'Widowed' },
];

/** Rough adult proportions of {@link MARITAL_STATUSES}. */
export const MARITAL_STATUS_WEIGHTS: readonly number[] = [50, 32, 11, 7];

/** Practitioner degrees (HL7 v2 table 0360). */
export const DEGREES: readonly Concept[] = [
  { code: 'MD', display: 'Doctor of Medicine' },
  { code: 'DO', display: 'Doctor of Osteopathy' },
  { code: 'NP', display: 'Nurse practitioner' },
];
