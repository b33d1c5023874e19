import { describe, expect, it } from 'vitest';
import { DETECTABLE_LANGUAGES, detectLanguage } from '../../../src/text/language.js';
import { normalizeText } from '../../../src/text/normalize.js';
import { sampleText, storyFiles } from '../../support/samples.js';

describe('detectLanguage on the story samples', () => {
  const files = storyFiles();

  it('finds all nine samples (en ×5, vi ×3, fr ×1)', () => {
    expect(files.map((f) => f.name.slice(0, 2)).sort().join(',')).toBe('en,en,en,en,en,fr,vi,vi,vi');
  });

  it.each(files.map((f) => [f.name, f.path] as const))('%s', (name, path) => {
    expect(detectLanguage(normalizeText(sampleText(path)))).toBe(name.slice(0, 2));
  });
});

describe('detectLanguage on other languages', () => {
  it.each([
    ['es', 'Había una vez una niña que vivía con su madre en una pequeña casa cerca del bosque. Todos la llamaban Caperucita Roja.'],
    ['de', 'Es war einmal ein kleines Mädchen, das lebte mit seiner Mutter in einem Haus am Rande des Waldes. Alle nannten es Rotkäppchen.'],
    ['it', "C'era una volta una bambina che viveva con la mamma in una casetta vicino al bosco. Tutti la chiamavano Cappuccetto Rosso."],
    ['pt', 'Era uma vez uma menina que vivia com a mãe numa pequena casa perto da floresta. Todos a chamavam Capuchinho Vermelho.'],
    ['nl', 'Er was eens een klein meisje dat met haar moeder in een huisje aan de rand van het bos woonde. Iedereen noemde haar Roodkapje.'],
    ['ru', 'Жила-была маленькая девочка, которая жила с матерью в домике на краю леса. Все называли её Красной Шапочкой.'],
    ['uk', 'Жила-була маленька дівчинка, яка жила з мамою в хатинці на краю лісу. Усі називали її Червоною Шапочкою.'],
    ['pl', 'Dawno, dawno temu żyła sobie mała dziewczynka, która mieszkała z mamą w domku na skraju lasu. Wszyscy nazywali ją Czerwonym Kapturkiem.'],
    ['tr', 'Bir varmış bir yokmuş, ormanın kenarındaki küçük bir evde annesiyle birlikte yaşayan küçük bir kız varmış. Herkes ona Kırmızı Başlıklı Kız dermiş.'],
    ['id', 'Pada zaman dahulu ada seorang gadis kecil yang tinggal bersama ibunya di sebuah rumah kecil di tepi hutan. Semua orang memanggilnya Si Tudung Merah.'],
    ['ja', '昔々、森のはずれの小さな家に、お母さんと一緒に住んでいる女の子がいました。みんなは彼女を赤ずきんと呼びました。'],
    ['ja', '国家公務員倫理法施行令改正案閣議決定の件について、内閣は本日これを承認した。'],
    ['zh', '从前，在森林边上的一座小房子里，住着一个小女孩和她的妈妈。大家都叫她小红帽。'],
    ['ko', '옛날 옛적에 숲 가장자리의 작은 집에 엄마와 함께 사는 어린 소녀가 있었습니다. 모두가 그녀를 빨간 모자라고 불렀습니다.'],
    ['th', 'กาลครั้งหนึ่งนานมาแล้ว มีเด็กหญิงตัวเล็กๆ คนหนึ่งอาศัยอยู่กับแม่ในบ้านหลังเล็กๆ ริมป่า ทุกคนเรียกเธอว่าหนูน้อยหมวกแดง'],
    ['ar', 'كان يا ما كان، كانت هناك فتاة صغيرة تعيش مع أمها في بيت صغير على حافة الغابة. وكان الجميع يسمونها ذات الرداء الأحمر.'],
    ['hi', 'एक समय की बात है, जंगल के किनारे एक छोटे से घर में एक छोटी लड़की अपनी माँ के साथ रहती थी। सब उसे लाल टोपी कहते थे।'],
  ])('%s', (code, text) => {
    expect(detectLanguage(text)).toBe(code);
  });

  it('returns only ISO 639-1 codes from its list', () => {
    expect(DETECTABLE_LANGUAGES).toHaveLength(19);
    expect(DETECTABLE_LANGUAGES.every((code) => /^[a-z]{2}$/.test(code))).toBe(true);
  });
});

describe('detectLanguage without enough text', () => {
  it.each([[''], ['Hello world'], ['The end.'], ['12345 67890 12345 67890 12345'], ['… — !? ¿¡ «»']])('%j → undefined', (text) => {
    expect(detectLanguage(text)).toBeUndefined();
  });
});
